/**
 * Builds DynamoDB UpdateExpressions with placeholder names and values, so attribute names that are reserved
 * words (`status`, `ttl`, ...) and arbitrary values never need quoting by hand.
 */
export type Raw = { raw: string };

/** A value written as an expression (`if_not_exists(#a, :b) + :c`): `#name` / `:value` markers are bound by the builder. */
export function raw(expression: string): Raw {
  return { raw: expression };
}

export class ExpressionBuilder {
  readonly names: Record<string, string> = {};
  readonly values: Record<string, unknown> = {};
  #nameIds = new Map<string, string>();
  #valueCount = 0;

  name(attribute: string): string {
    let id = this.#nameIds.get(attribute);
    if (!id) {
      id = `#n${this.#nameIds.size}`;
      this.#nameIds.set(attribute, id);
      this.names[id] = attribute;
    }
    return id;
  }

  value(value: unknown): string {
    const id = `:v${this.#valueCount++}`;
    this.values[id] = value;
    return id;
  }

  /**
   * `SET` for defined values, `REMOVE` for undefined ones. A {@link Raw} value is used verbatim (it must use
   * names and values from this builder).
   */
  update(fields: Record<string, unknown>, remove: readonly string[] = []): string {
    const sets: string[] = [];
    const removes: string[] = [];
    for (const [attribute, value] of Object.entries(fields)) {
      if (value === undefined) removes.push(this.name(attribute));
      else if (typeof value === 'object' && value !== null && 'raw' in value)
        sets.push(`${this.name(attribute)} = ${(value as Raw).raw}`);
      else sets.push(`${this.name(attribute)} = ${this.value(value)}`);
    }
    for (const attribute of remove) if (!(attribute in fields)) removes.push(this.name(attribute));
    return [sets.length ? `SET ${sets.join(', ')}` : '', removes.length ? `REMOVE ${removes.join(', ')}` : '']
      .filter(Boolean)
      .join(' ');
  }

  /** The names and values for a command; DynamoDB rejects empty maps. */
  params(): {
    ExpressionAttributeNames?: Record<string, string>;
    ExpressionAttributeValues?: Record<string, unknown>;
  } {
    return {
      ...(Object.keys(this.names).length ? { ExpressionAttributeNames: this.names } : {}),
      ...(Object.keys(this.values).length ? { ExpressionAttributeValues: this.values } : {}),
    };
  }
}

/** Whether an SDK error is a failed condition (the expected outcome of losing a race). */
export function isConditionFailed(error: unknown): boolean {
  return (
    typeof error === 'object' &&
    error !== null &&
    (error as { name?: string }).name === 'ConditionalCheckFailedException'
  );
}
