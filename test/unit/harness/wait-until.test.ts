/** The harness's one polling helper, used by the environment, the e2e steps and the demo. */
import { describe, expect, it } from 'vitest';
import { waitUntil } from '../../harness/env/processes.js';

describe('waitUntil', () => {
  it('returns the first value other than false or undefined, retrying checks that throw', async () => {
    const answers = [undefined, false, 'error', ['ready']] as const;
    let calls = 0;
    const value = await waitUntil(
      'the fourth answer',
      async () => {
        const answer = answers[calls++];
        if (answer === 'error') throw new Error('not yet');
        return answer;
      },
      { timeoutMs: 60_000 },
    );
    expect(value).toEqual(['ready']);
    expect(calls).toBe(4);
  });

  it('fails naming what it waited for and the last error', async () => {
    await expect(
      waitUntil(
        'a server that never answers',
        async () => {
          throw new Error('connection refused');
        },
        { timeoutMs: 300 },
      ),
    ).rejects.toThrow(
      'timed out after 300 ms waiting for a server that never answers (last error: connection refused)',
    );
  });
});
