/**
 * PromQL checks shared by the chart tests.
 */
import { promqlErrorOffsets } from '../../tools/validate/policy/promql';

/** Brackets, braces and parentheses balance and nest; double-quoted strings close. */
export function balanced(query: string): boolean {
  const pairs: Record<string, string> = { ')': '(', ']': '[', '}': '{' };
  const stack: string[] = [];
  let quoted = false;
  for (let i = 0; i < query.length; i++) {
    const c = query[i];
    if (quoted) {
      if (c === '\\') i++;
      else if (c === '"') quoted = false;
    } else if (c === '"') quoted = true;
    else if ('([{'.includes(c)) stack.push(c);
    else if (c in pairs && stack.pop() !== pairs[c]) return false;
  }
  return stack.length === 0 && !quoted;
}

/** Positions where Prometheus' own grammar (lezer-promql) fails to parse the query. */
export const promqlErrors = promqlErrorOffsets;
