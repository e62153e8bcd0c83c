// The `parley` command.
import { Command, CommanderError } from 'commander';
import { isUnconfigured, loadConfig, ConfigError, type ParleyConfig } from '../app/config.ts';
import { backupDatabase, createParley, openStore, VERSION } from '../app/container.ts';
import { applyConfigFile, ensureAdminKey, ensureDemo, shouldRunDemo } from '../app/bootstrap.ts';
import { ensureDemoFlows } from '../app/automation/demo-flows.ts';
import { runDoctor } from './doctor.ts';
import { registerRateCommand } from './rate-command.ts';
import { registerRatesCommand } from './rates-command.ts';
import { registerTemplatesCommand } from './templates-command.ts';
import { registerConsentCommand } from './consent-command.ts';
import { registerCampaignsCommand } from './campaigns-command.ts';
import { registerEmulatorCommand } from './emulator-command.ts';

export function buildProgram(): Command {
  const program = new Command()
    .name('parley')
    .description('Customer care and notifications on the WhatsApp Business API')
    .version(VERSION)
    .showHelpAfterError();

  program
    .command('start')
    .description('run the server and workers (what `npm start` runs)')
    .option('--demo', 'create the demo workspace and simulated customers even when configured')
    .action(async (options: { demo?: boolean }) => {
      await start(loadConfig(), Boolean(options.demo));
    });

  program
    .command('migrate')
    .description('apply database migrations (start does this too)')
    .action(async () => {
      const store = await openStore(loadConfig());
      try {
        const applied = await store.migrate();
        console.log(applied.length ? `applied: ${applied.join(', ')}` : 'database is up to date');
      } finally {
        await store.close();
      }
    });

  program
    .command('doctor')
    .description('check configuration, database, queue and each provider connection')
    .action(async () => {
      process.exitCode = await runDoctor(process.stdout);
    });

  program
    .command('backup')
    .argument('<file>', 'where to write the copy')
    .description('a consistent copy of the SQLite store, safe while Parley runs')
    .action(async (file: string) => {
      await backupDatabase(loadConfig(), file);
      console.log(`backup written to ${file}`);
    });

  registerRateCommand(program);
  registerRatesCommand(program);
  registerTemplatesCommand(program);
  registerConsentCommand(program);
  registerCampaignsCommand(program);
  registerEmulatorCommand(program);
  return program;
}

async function start(config: ParleyConfig, forceDemo: boolean): Promise<void> {
  const parley = await createParley(config);
  const deps = parley.deps;
  const brandNew = (await deps.store.workspaces.count()) === 0;
  await applyConfigFile(deps, config.file);
  if (config.adminApiKey) await ensureAdminKey(deps, config.adminApiKey);
  const hasDemo = (await deps.store.workspaces.list()).some((w) => w.settings.demo === true);
  const runDemo = shouldRunDemo({
    unconfigured: isUnconfigured(config),
    brandNew,
    hasDemo,
    forced: forceDemo,
  });
  const demo = runDemo ? await ensureDemo(deps, config) : null;
  if (demo?.created) await ensureDemoFlows(deps, demo.workspace.id);
  const url = await parley.start({ listen: true });
  if (demo) await parley.startDemo(demo.channel);

  const lines = [
    ``,
    `  Parley ${VERSION} is running on ${url ?? ''}`,
    `  database: ${config.databaseUrl ? 'PostgreSQL' : config.sqliteFile}`,
    `  API docs: ${url ?? ''}/docs`,
  ];
  if (demo) {
    lines.push(
      ``,
      `  Demo workspace with a sandbox number (+${demo.channel.phoneNumber}); simulated customers write in every few seconds.`,
      `  Inbox:      ${url ?? ''}/  (sign in as ${demo.login.email} / ${demo.login.password})`,
      `  API key:    ${demo.apiKey}`,
      `  Channel id: ${demo.channel.id}`,
      `  Bot flows:  a menu (write "menu"), opening hours, order questions handed to agents (/v1/automations)`,
      `  Try:        curl -H "Authorization: Bearer ${demo.apiKey}" ${url ?? ''}/v1/conversations`,
    );
  }
  console.log(lines.join('\n') + '\n');

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n  ${signal}: finishing in-flight work…`);
    parley.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  program.exitOverride();
  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      process.exitCode = error.exitCode;
      return;
    }
    if (error instanceof ConfigError) {
      console.error(`parley: configuration error: ${error.message}`);
      process.exitCode = 78;
      return;
    }
    console.error(`parley: ${(error as Error).message}`);
    process.exitCode = 1;
  }
}
