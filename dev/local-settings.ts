import { existsSync, readFileSync } from 'node:fs';
import { z } from 'zod';

/** Settings of the local host itself; the app's own settings are read by shared/config.ts. */
const port = z
  .string()
  .optional()
  .transform((value, ctx) => {
    if (value === undefined) return 7071;
    const parsed = Number(value);
    if (!/^\d+$/.test(value.trim()) || parsed > 65535) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: `must be a port number from 0 to 65535, got "${value.slice(0, 40)}" (for example: PORT=7072 npm start)` });
      return z.NEVER;
    }
    return parsed;
  });

const wholeSeconds = (min: number, max: number, fallback: number) =>
  z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined) return fallback;
      const parsed = Number(value);
      if (!/^\d+$/.test(value.trim()) || parsed < min || parsed > max) {
        ctx.addIssue({ code: z.ZodIssueCode.custom, message: `must be a whole number of seconds from ${min} to ${max}, got "${value.slice(0, 40)}" (for example: ${fallback})` });
        return z.NEVER;
      }
      return parsed;
    });

export const localHostSettingsSchema = z.object({
  PORT: port,
  /** When set, routes with authLevel `function` need `?code=` or `x-functions-key` with this value. */
  LOCAL_FUNCTION_KEY: z.string().min(1).optional(),
  /** A tenant JSON file for the Graph simulator; the built-in demo tenant otherwise. */
  GRAPH_SIM_TENANT: z.string().min(1).optional(),
  /** How long a queue message stays invisible while its handler runs, and after the host dies. */
  LOCAL_QUEUE_LEASE_SECONDS: wholeSeconds(1, 600, 60),
  /** Where npm start records its API and storage for audit:verify; .npm-start.json in the repository otherwise. */
  LOCAL_STATE_FILE: z.string().min(1).optional(),
});

/** A bad local host setting: one line that names it, with the value and an example, and no stack. */
export class LocalSettingsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LocalSettingsError';
  }
}

export type LocalHostSettings = z.output<typeof localHostSettingsSchema>;

/**
 * Like `func start`: the Values of local.settings.json become environment variables, and variables
 * already set in the shell win.
 */
export function applyLocalSettingsFile(path: string, env: NodeJS.ProcessEnv = process.env): string[] {
  if (!existsSync(path)) return [];
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new LocalSettingsError(`${path} is not valid JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  const file = z.object({ Values: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).default({}) }).safeParse(json);
  if (!file.success) {
    throw new LocalSettingsError(`${path} must be {"Values": {"NAME": "value", ...}} as in local.settings.example.json`);
  }
  const parsed = file.data;
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
    LOCAL_STATE_FILE: env.LOCAL_STATE_FILE || undefined,
  });
  if (!parsed.success) {
    throw new LocalSettingsError(parsed.error.issues.map((issue) => `${issue.path.join('.')} ${issue.message}`).join('; '));
  }
  return parsed.data;
}
