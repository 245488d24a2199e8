/** The README's consumer app: each fenced block of the section starts with `// file: PATH`. */
export function consumerFiles(readme: string): ReadonlyMap<string, string> {
  const section = /<!-- consumer-app:start -->([\s\S]*?)<!-- consumer-app:end -->/.exec(readme)?.[1];
  if (section === undefined) throw new Error('README.md has no consumer-app section');
  const files = new Map<string, string>();
  for (const block of section.matchAll(/```[a-z]*\n([\s\S]*?)```/g)) {
    const [first, ...rest] = (block[1] ?? '').split('\n');
    const file = /^\/\/ file: (\S+)$/.exec(first ?? '')?.[1];
    if (file === undefined) throw new Error(`a consumer-app block does not start with '// file: PATH': ${first ?? ''}`);
    files.set(file, rest.join('\n'));
  }
  return files;
}
