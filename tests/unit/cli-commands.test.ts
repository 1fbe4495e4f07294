// The CLI loads only the module of the command it is given (cli/main.ts), from a table of which module
// registers which commands. A command listed under the wrong module would be unknown to yargs; one missing from
// the table only costs start-up time. Each module is registered alone here and its commands compared.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import yargs, { type Argv } from 'yargs';
import { COMMAND_MODULES } from '../../cli/main.ts';

/** yargs keeps no public list of registered commands; its command instance has one. */
const commandsOf = (cli: Argv): string[] =>
  (cli as unknown as { getInternalMethods(): { getCommandInstance(): { getCommands(): string[] } } })
    .getInternalMethods()
    .getCommandInstance()
    .getCommands();

test('every command module registers exactly the commands the CLI lists for it', async () => {
  const seen = new Set<string>();
  for (const m of COMMAND_MODULES) {
    const cli = yargs([]);
    (await m.load())(cli, () => undefined);
    assert.equal([...commandsOf(cli)].sort(), [...m.commands].sort());
    for (const c of m.commands) {
      assert.not.ok(seen.has(c), `${c} is listed under two modules`);
      seen.add(c);
    }
  }
  assert.ok(seen.has('run') && seen.has('demo') && seen.has('predict'));
});

test.run();
