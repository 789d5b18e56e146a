/** "Did you mean ...?" for hints: the closest candidate by edit distance, if close enough. */
import { editDistance } from '../../regions/edit-distance';

/**
 * Closest candidate to `word`. Case-insensitive equality wins outright (`ifnotpresent`);
 * otherwise the distance must be at most a third of the word (min 2), so a hint never
 * suggests something unrelated. Ties break on the candidate's plain `<` order.
 */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestScore = Infinity;
  const lower = word.toLowerCase();
  for (const c of candidates) {
    const score = c.toLowerCase() === lower ? 0 : editDistance(lower, c.toLowerCase()) + 0.5;
    if (score < bestScore || (score === bestScore && best !== undefined && c < best)) {
      best = c;
      bestScore = score;
    }
  }
  const limit = Math.max(2, Math.floor(word.length / 3)) + 0.5;
  return best !== undefined && bestScore <= limit ? best : undefined;
}
