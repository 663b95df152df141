/**
 * Tool arguments as a user would fill the form: plain values from the tool's input schema.
 */

/** Arguments for a tool from its input schema: a user filling the form with plain values. */
export const argumentsFor = (schema: unknown): Record<string, unknown> => {
  const properties = (schema as { properties?: Record<string, { type?: string; enum?: Array<unknown> }> })
    ?.properties ?? {}
  const args: Record<string, unknown> = {}
  let n = 2
  for (const [name, property] of Object.entries(properties)) {
    if (property.enum !== undefined && property.enum.length > 0) args[name] = property.enum[0]
    else if (property.type === "number" || property.type === "integer") args[name] = n++
    else if (property.type === "boolean") args[name] = true
    else if (property.type === "string") args[name] = "conformance"
  }
  return args
}
