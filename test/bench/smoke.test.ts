import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * `npm run bench -- --smoke` inside `npm test`: every phase of the bench (intake against storage, single
 * resets end to end, a bulk job, the sequential baseline, an idle window, several app processes with one
 * killed) with tiny counts, so a change that breaks the bench fails CI instead of being found on the day
 * someone measures. It checks that each phase ran and that the last line is the figures as JSON; it
 * asserts no speed (speed is measured by the full bench).
 */
const root = join(__dirname, '..', '..');

function runSmoke(): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs'), join(root, 'dev', 'bench', 'run.ts'), '--smoke'], {
      cwd: root,
      env: { ...process.env, NODE_ENV: 'test' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('npm run bench -- --smoke', () => {
  it('runs every phase and ends with one line of JSON figures', async () => {
    const run = await runSmoke();
    expect(run.code, run.stderr.slice(-2000)).toBe(0);
    const last = run.stdout.trim().split('\n').at(-1)!;
    const figures = JSON.parse(last) as Record<string, unknown>;
    expect(figures.smoke).toBe(true);
    for (const key of [
      'intake_rps', 'storage_rps', 'intake_vs_storage', 'storage_intake_writes_rps', 'intake_writes_vs_storage', 'intake_vs_intake_writes', 'intake_storage_round_trips', 'intake_queue_round_trips', 'bulk_efficiency', 'throttled_share',
      'e2e_p50_ms', 'e2e_graph_round_trips', 'e2e_before_graph_p50_ms', 'rss_peak_mb', 'app_rss_peak_mb', 'graph_sim_rss_peak_mb', 'azurite_rss_peak_mb', 'bench_seconds',
      'idle_invocations_per_hour', 'idle_timer_fires_per_hour', 'idle_queue_invocations_per_hour', 'idle_day_usd', 'idle_day_gb_s',
    ]) {
      expect(typeof figures[key], key).toBe('number');
    }
    // Each phase did its work: intake accepted requests, every bulk user completed, resets reached Graph.
    expect(figures.intake_rps as number).toBeGreaterThan(0);
    expect(figures.bulk_completed).toBe(figures.bulk_users);
    expect(figures.e2e_graph_round_trips as number).toBeGreaterThan(0);
    // Storage round trips were counted on both sides (a count, not a speed).
    expect(figures.intake_storage_round_trips as number).toBeGreaterThan(0);
    expect(figures.storage_baseline_round_trips as number).toBeGreaterThan(0);
    // The second baseline makes exactly the intake's storage calls for a new request: two table inserts and a message.
    expect(run.stdout).toMatch(/the intake's writes alone .*2 table \+ 1 queue, no HTTP/);
    expect(figures.intake_non_2xx).toBe(0);
    expect(run.stdout).toMatch(/single reset, end to end/);
    // Idle: the timers fire at most 12 times an hour, and nothing else runs once the job's beats have stopped.
    expect(figures.idle_timer_fires_per_hour as number).toBeLessThanOrEqual(12);
    expect(figures.idle_queue_invocations_per_hour).toBe(0);
    expect(run.stdout).toMatch(/idle day, Flex Consumption on demand/);
    // Storage transactions of a reset (counted) and of an idle hour, table and queue.
    for (const key of ['e2e_table_round_trips', 'e2e_queue_round_trips', 'idle_hour_table_transactions', 'idle_hour_queue_transactions']) expect(typeof figures[key], key).toBe('number');
    expect(figures.e2e_queue_round_trips as number).toBeGreaterThanOrEqual(3);
    expect(figures.idle_hour_queue_transactions as number).toBeGreaterThan(0);
    expect(run.stdout).toMatch(/storage transactions +a reset \d+ table \+ \d+ queue/);
    // Several app processes, one killed with SIGKILL part-way and started again: every request final,
    // no method written twice, the shared budget kept.
    for (const key of ['scale_lost', 'scale_double_writes', 'scale_budget_overrun', 'scale_efficiency', 'scale_killed_at_finished']) expect(typeof figures[key], key).toBe('number');
    expect(figures.scale_killed_at_finished as number).toBeGreaterThanOrEqual(0);
    expect(figures.scale_lost).toBe(0);
    expect(figures.scale_double_writes).toBe(0);
    expect(figures.scale_completed).toBe(figures.scale_users);
  }, 240_000);
});
