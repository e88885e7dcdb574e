import { BUDGET_WINDOW_SECONDS } from './scale-figures';
import { scalePhase, type ScaleConfig, type ScaleContext } from './scale';

/** The scale phase's counts: the issue's in a full run, tiny ones in `--smoke` (a kill included, so it cannot rot). */
export function scaleConfig(smoke: boolean): ScaleConfig {
  if (smoke) {
    return {
      processes: 2,
      bulkUsers: 6,
      singles: 2,
      latencyMs: 20,
      // A small budget, so that the job is still running when the kill comes.
      writeBudget: 3,
      writesPerUser: 3,
      killAfterFinished: 1,
      restartAfterMs: 500,
      timeoutSeconds: 150,
      pollMs: 250,
      // A killed process's requests resume after these, not after the production two minutes.
      env: { RESET_LEASE_SECONDS: '10' },
      messageLeaseSeconds: 3,
    };
  }
  const bulkUsers = Number(process.env.BENCH_SCALE_USERS ?? 1500);
  return {
    processes: 3,
    bulkUsers,
    singles: 100,
    latencyMs: 100,
    // The app's default GRAPH_WRITE_BUDGET_PER_SECOND and RESET_LEASE_SECONDS: measured at what ships.
    writeBudget: 15,
    writesPerUser: 3,
    killAfterFinished: Math.round(bulkUsers / 3),
    restartAfterMs: 5000,
    timeoutSeconds: 1500,
    pollMs: 1000,
    env: {},
    // As the Functions queue extension dequeues (10 minutes): a dead instance's messages stay invisible
    // past the phase, so what recovers its requests is what recovers them in Azure: their lease runs out
    // and the sweeper (every minute) re-drives them.
    messageLeaseSeconds: 600,
  };
}

const round = (value: number, digits = 2) => Number(value.toFixed(digits));

/** Runs the phase and says it as figures (the JSON line) and table rows. */
export async function scaleFigures(config: ScaleConfig, context: ScaleContext): Promise<{ figures: Record<string, unknown>; rows: [string, string, string, string][] }> {
  const result = await scalePhase(config, context);
  const figures = {
    scale_processes: result.processes,
    scale_users: result.users,
    scale_completed: result.completed,
    scale_lost: result.lost,
    scale_not_completed: result.notCompleted,
    scale_double_writes: result.doubleWrites,
    scale_budget_overrun: round(result.budgetOverrun, 3),
    scale_busiest_window_writes: result.busiestWindowWrites,
    scale_seconds: round(result.seconds, 1),
    scale_users_per_second: round(result.usersPerSecond),
    scale_efficiency: round(result.efficiency),
    scale_graph_writes: result.graphWrites,
    scale_throttled_share: round(result.graphRequests > 0 ? result.throttled / result.graphRequests : 0, 4),
    scale_killed_at_finished: result.killedAtFinished,
    scale_unexpected_exits: result.unexpectedExits.length,
    scale_app_rss_peak_mb: round(result.appRssPeakMb, 0),
  };
  const budgetPerWindow = config.writeBudget * BUDGET_WINDOW_SECONDS;
  const rows: [string, string, string, string][] = [
    [
      `scale: ${result.processes} app processes`,
      `${result.users} users (${config.bulkUsers} bulk, ${config.singles} single) in ${figures.scale_seconds} s, ${result.completed} completed; one process killed after ${result.killedAtFinished} and started again`,
      `ceiling ${round(result.ceilingUsersPerSecond)} users/s (${config.writeBudget} writes/s shared, ${config.writesPerUser} a user)`,
      `efficiency ${figures.scale_efficiency} (goal >= 0.9)`,
    ],
    [
      'scale: lost, written twice',
      `${result.lost} not final${result.unexpectedExits.length ? ` (${result.unexpectedExits.join(', ')})` : ''}${Object.keys(result.notCompleted).length ? `, ${JSON.stringify(result.notCompleted)} final but not completed` : ''}; ${result.doubleWrites} method writes carried out twice${result.doubleWriteExamples.length ? ` (${result.doubleWriteExamples.join(', ')})` : ''}`,
      `${result.throttled} x 429 of ${result.graphRequests} Graph requests`,
      '(goal 0 and 0)',
    ],
    [
      'scale: the shared budget',
      `busiest ${BUDGET_WINDOW_SECONDS} s window: ${result.busiestWindowWrites} writes (all instances, from Graph's log)`,
      `budget ${budgetPerWindow} writes per ${BUDGET_WINDOW_SECONDS} s`,
      `overrun ${figures.scale_budget_overrun} (goal <= 0.02)`,
    ],
  ];
  return { figures, rows };
}
