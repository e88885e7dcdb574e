import { refused } from '../http/answer';

/**
 * Consent to a bulk job's size. A job that would reset more users than BULK_CONFIRM_ABOVE (a group
 * counted after its expansion) is accepted only when the caller states that number in `confirmUsers`:
 * one signed job naming "All users" (or a CSV export of the wrong report) is not consent to reset
 * every one of them. A stated number must be exact whatever the job's size, so a caller who said 500
 * never gets a job of 5,000. Dry runs count too: the answer is the same job, dry run or not.
 */
export interface JobSize {
  /** Users the job would reset: the rows (or group members) that become reset requests. */
  users: number;
  /** Rows listed, refused rows included (duplicates, personal accounts, foreign domains). */
  rows: number;
  kind: 'users' | 'csv' | 'group';
  groupId?: string;
}

export function checkSizeConsent(size: JobSize, confirmUsers: number | undefined, confirmAbove: number): void {
  const what = size.kind === 'group' ? `group ${size.groupId ?? ''} has ${size.users} user members, so this job would reset ${size.users} users` : `this job would reset ${size.users} users${size.rows !== size.users ? ` (${size.rows} rows listed, ${size.rows - size.users} refused)` : ''}`;
  const details = { wouldReset: size.users, rows: size.rows, confirmAbove, ...(confirmUsers !== undefined ? { confirmUsers } : {}), fields: ['confirmUsers'] };
  if (confirmUsers === undefined) {
    if (size.users <= confirmAbove) return;
    throw refused(
      'confirmation_required',
      `${what}, more than BULK_CONFIRM_ABOVE (${confirmAbove}); nothing was stored. If that is meant, send the same job with confirmUsers: ${size.users}.`,
      details,
    );
  }
  if (confirmUsers !== size.users) {
    throw refused(
      'confirmation_mismatch',
      `confirmUsers is ${confirmUsers} but ${what}; nothing was stored. Check the ${size.kind === 'group' ? 'group' : 'list'}, then send confirmUsers: ${size.users} if that is meant.`,
      details,
    );
  }
}
