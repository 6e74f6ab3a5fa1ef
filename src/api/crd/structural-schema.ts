import * as z from 'zod';

/** A node of an OpenAPI v3 schema, as it appears in a CRD. */
export type SchemaNode = { [key: string]: unknown };

/** Keywords a structural schema cannot contain where zod may emit them. */
const FORBIDDEN_KEYWORDS = ['$ref', 'allOf', 'oneOf', 'not', 'anyOf', 'const'] as const;

const SAFE_INTEGER_BOUNDS: ReadonlySet<unknown> = new Set([
  Number.MAX_SAFE_INTEGER,
  Number.MIN_SAFE_INTEGER,
]);

function isNode(value: unknown): value is SchemaNode {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function child(node: SchemaNode, key: string, path: string): SchemaNode {
  const value = node[key];
  if (!isNode(value)) {
    throw new Error(`${path}: expected a schema under "${key}"`);
  }
  return value;
}

/** `x-kubernetes-int-or-string` in the only shape a structural schema allows for it. */
function toIntOrString(node: SchemaNode, path: string): SchemaNode {
  const branches = Array.isArray(node.anyOf) ? node.anyOf.filter(isNode) : [];
  const stringBranch = branches.find((branch) => branch.type === 'string');
  if (branches.length !== 2 || stringBranch === undefined) {
    throw new Error(`${path}: int-or-string must be a union of an integer and a string`);
  }
  const result: SchemaNode = {};
  if (node.description !== undefined) {
    result.description = node.description;
  }
  result.anyOf = [{ type: 'integer' }, { type: 'string' }];
  if (stringBranch.pattern !== undefined) {
    result.pattern = stringBranch.pattern;
  }
  result['x-kubernetes-int-or-string'] = true;
  return result;
}

/** Whether zod's output for `key` says nothing a structural schema can or should carry. */
function isDropped(node: SchemaNode, key: string): boolean {
  const value = node[key];
  switch (key) {
    case '$schema':
    case 'propertyNames':
      return true;
    case 'additionalProperties':
      // Unknown fields are rejected by strict field validation and pruned otherwise;
      // `additionalProperties: false` is not allowed next to `properties`.
      return value === false;
    case 'minimum':
    case 'maximum':
      return node.type === 'integer' && SAFE_INTEGER_BOUNDS.has(value);
    case 'pattern':
      // zod pairs `format: date-time` with a JavaScript regex; the format alone is checked.
      return node.format === 'date-time';
    default:
      return false;
  }
}

function convertNode(node: SchemaNode, path: string): SchemaNode {
  if (node['x-kubernetes-int-or-string'] === true) {
    return toIntOrString(node, path);
  }
  const forbidden = FORBIDDEN_KEYWORDS.find((keyword) => keyword in node);
  if (forbidden !== undefined) {
    throw new Error(`${path}: "${forbidden}" cannot be expressed in a structural schema`);
  }
  if (typeof node.type !== 'string') {
    throw new Error(`${path}: every schema needs a type`);
  }
  const result: SchemaNode = { description: node.description, type: node.type };
  for (const key of Object.keys(node)) {
    if (!(key in result) && !isDropped(node, key)) {
      result[key] = convertChild(node, key, path);
    }
  }
  if (result.description === undefined) {
    delete result.description;
  }
  return result;
}

function convertChild(node: SchemaNode, key: string, path: string): unknown {
  switch (key) {
    case 'properties': {
      const properties = child(node, key, path);
      return Object.fromEntries(
        Object.keys(properties).map((name) => [
          name,
          convertNode(child(properties, name, path), `${path}.${name}`),
        ]),
      );
    }
    case 'items':
      return convertNode(child(node, key, path), `${path}[*]`);
    case 'additionalProperties':
      return convertNode(child(node, key, path), `${path}[*]`);
    default:
      return node[key];
  }
}

/**
 * Converts a zod schema into a structural OpenAPI v3 schema for a CRD: the input side of the
 * schema (what people write), with defaults, enums, patterns, descriptions and the
 * `x-kubernetes-*` extensions found in the schemas' metadata.
 *
 * @throws Error when the schema uses something a structural schema cannot express; that is
 *   a mistake in the schema, caught by the generator's tests.
 */
export function toStructuralSchema(schema: z.ZodType, path: string): SchemaNode {
  const jsonSchema = z.toJSONSchema(schema, { io: 'input', target: 'openapi-3.0' });
  return convertNode(jsonSchema as SchemaNode, path);
}
