/** The page that shows a team's app from an empty folder ("Put your API behind Latchkey"). */
export const CONSUMER_APP_PAGE = 'docs/your-routes.md';

/** The consumer app of that page: each fenced block of the section starts with `// file: PATH`. */
export function consumerFiles(page: string): ReadonlyMap<string, string> {
  const section = /<!-- consumer-app:start -->([\s\S]*?)<!-- consumer-app:end -->/.exec(page)?.[1];
  if (section === undefined) throw new Error(`${CONSUMER_APP_PAGE} has no consumer-app section`);
  const files = new Map<string, string>();
  for (const block of section.matchAll(/```[a-z]*\n([\s\S]*?)```/g)) {
    const [first, ...rest] = (block[1] ?? '').split('\n');
    const file = /^\/\/ file: (\S+)$/.exec(first ?? '')?.[1];
    if (file === undefined) throw new Error(`a consumer-app block does not start with '// file: PATH': ${first ?? ''}`);
    files.set(file, rest.join('\n'));
  }
  return files;
}
