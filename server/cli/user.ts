/**
 * `holocase user`: local accounts. `add` prints a one-time password (changed at first sign-in),
 * `reset` issues a new one, `list` shows the accounts.
 */
import { loadConfig } from '../config.ts';
import { openDatabase } from '../store/database.ts';
import { addUser, listUsers, resetPassword } from '../auth/users.ts';
import { parseCommandArgs } from './args.ts';
import { UsageError } from './main.ts';

const HELP = `usage: holocase user add <name> [--admin] [--team TEAM] [--data DIR]
       holocase user reset <name> [--data DIR]
       holocase user list [--data DIR]

  add     create an account; prints its one-time password (to be changed at first sign-in)
  reset   issue a new one-time password (signs the user out everywhere)
  list    show accounts
  --team  cases a member shares with the team are visible to every member
  --data  data folder (HOLOCASE_DATA; default ./data)`;

const OPTIONS = { admin: { type: 'boolean' }, team: { type: 'string' }, data: { type: 'string' } } as const;

export async function run(argv: string[]): Promise<number> {
  const args = parseCommandArgs(argv, OPTIONS, HELP, { min: 1, max: 2 });
  if (!args) return 0;
  const [action, name] = args.positionals;
  const db = openDatabase(loadConfig({ dataDir: args.values.data }).dataDir);
  try {
    if (action === 'list') {
      for (const u of listUsers(db)) console.log(`${u.username}${u.isAdmin ? ' (admin)' : ''}${u.team ? ` team=${u.team}` : ''}`);
      return 0;
    }
    if (!name) throw new UsageError(`"user ${action}" needs a user name\n\n${HELP}`);
    if (action === 'add') {
      const { user, password } = await addUser(db, name, { admin: args.values.admin, team: args.values.team });
      console.log(`created ${user.isAdmin ? 'administrator' : 'user'} "${user.username}"${user.team ? ` in team "${user.team}"` : ''}`);
      console.log(`one-time password: ${password}`);
      console.log('(it must be changed at the first sign-in)');
      return 0;
    }
    if (action === 'reset') {
      console.log(`one-time password: ${await resetPassword(db, name)}`);
      return 0;
    }
    throw new UsageError(`unknown action "${action}"\n\n${HELP}`);
  } finally {
    db.close();
  }
}
