// Rewrites one generated section of docs/benchmarks.md and leaves everything else as it was.

const open = (id: string): string => `<!-- bench:${id} -->`;
const close = (id: string): string => `<!-- /bench:${id} -->`;

/**
 * Replaces the text between `<!-- bench:id -->` and `<!-- /bench:id -->` with `body`; a section
 * that does not exist yet is appended at the end. Text outside the markers (hand-written
 * analysis, other benchmarks' sections) is kept byte for byte.
 */
export function replaceSection(doc: string, id: string, body: string): string {
  if (!/^[a-z0-9-]+$/.test(id)) throw new Error(`invalid section id ${JSON.stringify(id)}`);
  const block = `${open(id)}\n\n${body.trim()}\n\n${close(id)}`;
  const start = doc.indexOf(open(id));
  const end = doc.indexOf(close(id));
  if (start !== -1 && end > start) {
    return doc.slice(0, start) + block + doc.slice(end + close(id).length);
  }
  if (start !== -1 || end !== -1)
    throw new Error(`docs/benchmarks.md has a broken ${open(id)} … ${close(id)} pair`);
  const base = doc.endsWith('\n') || doc === '' ? doc : `${doc}\n`;
  return `${base}${base === '' ? '' : '\n'}${block}\n`;
}
