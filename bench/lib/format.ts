// Turning reports into the console table and the Markdown section of docs/benchmarks.md.
import type { BenchReport, ResultRow, Target } from './types.ts';

/** 12345.6 → "12,346"; small numbers keep a few significant digits. */
export function formatNumber(value: number): string {
  const abs = Math.abs(value);
  const digits = abs >= 100 ? 0 : abs >= 10 ? 1 : abs >= 1 ? 2 : 3;
  return value.toLocaleString('en-US', {
    minimumFractionDigits: 0,
    maximumFractionDigits: digits,
  });
}

export function formatFigure(row: ResultRow): string {
  if (row.value === null) return 'not measured';
  return row.unit ? `${formatNumber(row.value)} ${row.unit}` : formatNumber(row.value);
}

export function formatTarget(target: Target | undefined, unit: string): string {
  if (!target) return '';
  const op =
    target.op === '==' ? '=' : target.op === '>=' ? '≥' : target.op === '<=' ? '≤' : target.op;
  return `${op} ${formatNumber(target.value)}${unit ? ` ${unit}` : ''}`;
}

/**
 * Met or missed, with a ratio above 1 meaning better than the target whichever way it points
 * (throughput / target, or target / latency).
 */
export function verdict(row: ResultRow): string {
  const t = row.target;
  if (!t) return '';
  if (row.value === null) return 'not measured';
  const v = row.value;
  if (t.op === '==') return v === t.value ? 'holds' : 'FAILS';
  const met =
    t.op === '>='
      ? v >= t.value
      : t.op === '>'
        ? v > t.value
        : t.op === '<'
          ? v < t.value
          : v <= t.value;
  const higherIsBetter = t.op === '>=' || t.op === '>';
  const ratio = higherIsBetter ? v / t.value : v === 0 ? Infinity : t.value / v;
  const shown = Number.isFinite(ratio) ? `${ratio.toFixed(2)}×` : '∞';
  return `${met ? 'meets' : 'MISSES'} (${shown})`;
}

export function consoleTable(reports: readonly BenchReport[]): string {
  const lines: string[][] = [['bench', 'measure', 'figure', 'target', 'verdict']];
  for (const r of reports)
    for (const row of r.rows)
      lines.push([
        r.id,
        row.label,
        formatFigure(row),
        formatTarget(row.target, row.unit),
        verdict(row),
      ]);
  const widths = lines[0]!.map((_, i) => Math.max(...lines.map((l) => (l[i] ?? '').length)));
  return lines
    .map((l, n) => {
      const text = l
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd();
      return n === 0 ? `${text}\n${widths.map((w) => '-'.repeat(w)).join('  ')}` : text;
    })
    .join('\n');
}

const escapeCell = (text: string): string => text.replaceAll('|', '\\|');

/** The body of one `<!-- bench:id -->` section. */
export function markdownSection(report: BenchReport, machine: string): string {
  const out = [`### ${report.id.toUpperCase()} — ${report.title}`, '', `Measured ${machine}.`, ''];
  out.push('| measure | figure | target | verdict |', '| --- | --- | --- | --- |');
  for (const row of report.rows)
    out.push(
      `| ${escapeCell(row.label)} | ${escapeCell(formatFigure(row))} | ${escapeCell(formatTarget(row.target, row.unit))} | ${verdict(row)} |`,
    );
  if (report.notes.length > 0) {
    out.push('');
    for (const note of report.notes) out.push(`- ${note}`);
  }
  return out.join('\n');
}
