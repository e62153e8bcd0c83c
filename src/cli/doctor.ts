// Prints `parley doctor` findings; exit code 1 when anything needs fixing.
import { loadConfig } from '../app/config.ts';
import { createParley } from '../app/container.ts';
import { diagnose } from '../app/doctor.ts';

export async function runDoctor(out: NodeJS.WritableStream): Promise<number> {
  const config = loadConfig();
  const parley = await createParley(config, {});
  try {
    const findings = await diagnose(parley.deps, config);
    let area = '';
    for (const f of findings) {
      if (f.area !== area) out.write(`\n${f.area}\n`);
      area = f.area;
      out.write(`  ${f.ok ? '✓' : '✗'} ${f.check}: ${f.detail}\n`);
      if (!f.ok && f.fix) out.write(`      fix: ${f.fix}\n`);
    }
    const bad = findings.filter((f) => !f.ok).length;
    out.write(`\n${bad === 0 ? 'all checks passed' : `${bad} check(s) need attention`}\n`);
    return bad === 0 ? 0 : 1;
  } finally {
    await parley.stop();
  }
}
