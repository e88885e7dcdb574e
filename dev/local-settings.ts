import { existsSync, readFileSync } from 'node:fs';
import { z } from 'zod';

/** Settings of the local host itself; the app's own settings are read by shared/config.ts. */
export const localHostSettingsSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(7071),
  /** When set, routes with authLevel `function` need `?code=` or `x-functions-key` with this value. */
  LOCAL_FUNCTION_KEY: z.string().min(1).optional(),
  /** A tenant JSON file for the Graph simulator; the built-in demo tenant otherwise. */
  GRAPH_SIM_TENANT: z.string().min(1).optional(),
  /** How long a queue message stays invisible while its handler runs, and after the host dies. */
  LOCAL_QUEUE_LEASE_SECONDS: z.coerce.number().int().min(1).max(600).default(60),
});

export type LocalHostSettings = z.output<typeof localHostSettingsSchema>;

/**
 * Like `func start`: the Values of local.settings.json become environment variables, and variables
 * already set in the shell win.
 */
export function applyLocalSettingsFile(path: string, env: NodeJS.ProcessEnv = process.env): string[] {
  if (!existsSync(path)) return [];
  const parsed = z
    .object({ Values: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).default({}) })
    .parse(JSON.parse(readFileSync(path, 'utf8')));
  const applied: string[] = [];
  for (const [name, value] of Object.entries(parsed.Values)) {
    if (env[name] === undefined) {
      env[name] = String(value);
      applied.push(name);
    }
  }
  return applied;
}

export function readLocalHostSettings(env: NodeJS.ProcessEnv = process.env): LocalHostSettings {
  const parsed = localHostSettingsSchema.safeParse({
    PORT: env.PORT || undefined,
    LOCAL_FUNCTION_KEY: env.LOCAL_FUNCTION_KEY || undefined,
    GRAPH_SIM_TENANT: env.GRAPH_SIM_TENANT || undefined,
    LOCAL_QUEUE_LEASE_SECONDS: env.LOCAL_QUEUE_LEASE_SECONDS || undefined,
  });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`Invalid local host setting ${issue?.path.join('.')}: ${issue?.message}`);
  }
  return parsed.data;
}
