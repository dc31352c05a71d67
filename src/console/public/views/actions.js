import { post, q } from '../api.js';

/**
 * Runs a queue action after the user confirmed it; reports the outcome through `notify`.
 * Returns the result, or null when cancelled or refused.
 */
export async function act(queue, action, body, question, notify) {
  if (question && !window.confirm(question)) return null;
  try {
    const r = await post(`${q(queue)}/actions/${action}`, body);
    const failed = r.failed ? `; ${r.failed.length} refused: ${r.failed[0].error}` : '';
    notify(`${action}: ${r.done} done${failed}`, r.failed ? 'warn' : 'ok');
    return r;
  } catch (err) {
    notify(`${action} refused: ${err.message}`, 'bad');
    return null;
  }
}
