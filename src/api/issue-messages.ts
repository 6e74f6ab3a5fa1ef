import type * as z from 'zod';

type RawIssue = z.core.$ZodRawIssue;

const TYPE_NAMES: Readonly<Record<string, string>> = {
  int: 'an integer (a whole number)',
  number: 'a number',
  string: 'a string',
  boolean: 'a boolean (true or false)',
  object: 'an object',
  record: 'an object',
  array: 'a list',
};

function describeBound(issue: RawIssue & { code: 'too_small' | 'too_big' }): string {
  const small = issue.code === 'too_small';
  const bound = String(small ? issue.minimum : issue.maximum);
  switch (issue.origin) {
    case 'string':
      return `must be ${small ? 'at least' : 'at most'} ${bound} characters long`;
    case 'array':
      return `must have ${small ? 'at least' : 'at most'} ${bound} items`;
    default: {
      const comparison = small ? 'greater than' : 'less than';
      return `must be ${comparison}${issue.inclusive ? ' or equal to' : ''} ${bound}`;
    }
  }
}

/**
 * Zod error map used for every parse: the wording of the API server's messages (what is
 * allowed rather than what zod expected). Messages set on a schema take precedence.
 */
export function describeIssue(issue: RawIssue): string | undefined {
  switch (issue.code) {
    case 'invalid_type':
      return `must be ${TYPE_NAMES[issue.expected] ?? issue.expected}`;
    case 'too_small':
    case 'too_big':
      return describeBound(issue);
    case 'invalid_value':
      return `supported values: ${issue.values.map((value) => JSON.stringify(value)).join(', ')}`;
    case 'invalid_format':
      return issue.pattern === undefined
        ? `must be a valid ${issue.format}`
        : `must match the pattern ${issue.pattern}`;
    default:
      return undefined;
  }
}
