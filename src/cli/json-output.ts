/**
 * The one JSON style of every command (docs/CLI.md "JSON output"): one compact JSON document per
 * result, newline-terminated, whose first field `schema` names the command and the version of its
 * shape (`sipsec.options/1`). A field may be added within a version; renaming or removing one, or
 * changing its meaning, makes a new version.
 */

/** The version of every command's JSON shape; raised for a command when its shape changes incompatibly. */
export const JSON_SCHEMA_VERSION = 1;

/** The `schema` value of a command's JSON documents. */
export function schemaOf(command: string): string {
  return `sipsec.${command}/${JSON_SCHEMA_VERSION}`;
}

/** One document: `schema` first, then the body, on one line. */
export function jsonDocument(command: string, body: object): string {
  return `${JSON.stringify({ schema: schemaOf(command), ...body })}\n`;
}
