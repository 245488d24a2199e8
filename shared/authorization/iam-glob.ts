/**
 * IAM's resource and action globs: `*` matches any run of characters, `/` included, and `?`
 * exactly one character; everything else matches itself. API Gateway evaluates an
 * authorizer's policy with these rules, so the route policy's checks and the local gateway's
 * policy evaluation both match with this one function.
 *
 * Written without regular expressions, so that no pattern can be slow or inject syntax: a
 * greedy scan that backtracks only to the last `*`, so at most pattern × value steps.
 */
export function iamGlobMatches(pattern: string, value: string, ignoreCase = false): boolean {
  const p = ignoreCase ? pattern.toLowerCase() : pattern;
  const v = ignoreCase ? value.toLowerCase() : value;
  let pi = 0;
  let vi = 0;
  let starAt = -1;
  let starValueAt = 0;
  while (vi < v.length) {
    const pc = p[pi];
    if (pc !== undefined && pc !== '*' && (pc === '?' || pc === v[vi])) {
      pi += 1;
      vi += 1;
    } else if (pc === '*') {
      starAt = pi;
      starValueAt = vi;
      pi += 1;
    } else if (starAt !== -1) {
      pi = starAt + 1;
      starValueAt += 1;
      vi = starValueAt;
    } else {
      return false;
    }
  }
  while (p[pi] === '*') pi += 1;
  return pi === p.length;
}
