// Finds where a JSON text stops being valid, so a 400 can say where (JSON.parse's own message often does not).

const WHITESPACE = new Set([" ", "\t", "\n", "\r"]);
const SIMPLE_ESCAPES = new Set(['"', "\\", "/", "b", "f", "n", "r", "t"]);
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const LITERALS = ["true", "false", "null"];

type Expecting = "value" | "first-value" | "key" | "first-key" | "after-value";

/**
 * The UTF-16 offset of the first character that makes `text` invalid JSON (`text.length` when it ends too
 * soon), or undefined when it is valid. Iterative, so deeply nested input cannot exhaust the stack.
 */
export function jsonErrorOffset(text: string): number | undefined {
  const open: ("{" | "[")[] = [];
  let i = 0;
  let expecting: Expecting = "value";

  const skipWhitespace = () => {
    while (i < text.length && WHITESPACE.has(text[i]!)) i++;
  };
  /** Scans a string starting at its opening quote; false leaves `i` at the offending character. */
  const scanString = (): boolean => {
    i++;
    while (i < text.length) {
      const code = text.charCodeAt(i);
      if (code === 0x22) {
        i++;
        return true;
      }
      if (code < 0x20) return false;
      if (code === 0x5c) {
        const escaped = text[i + 1];
        if (escaped !== undefined && SIMPLE_ESCAPES.has(escaped)) i += 2;
        else if (escaped === "u" && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) i += 6;
        else {
          i++;
          return false;
        }
      } else i++;
    }
    return false;
  };

  while (true) {
    skipWhitespace();
    const ch = text[i];
    switch (expecting) {
      case "value":
      case "first-value": {
        if (ch === undefined) return i;
        if (expecting === "first-value" && ch === "]") {
          i++;
          open.pop();
          expecting = "after-value";
        } else if (ch === "{" || ch === "[") {
          open.push(ch);
          i++;
          expecting = ch === "{" ? "first-key" : "first-value";
        } else if (ch === '"') {
          if (!scanString()) return i;
          expecting = "after-value";
        } else {
          NUMBER.lastIndex = i;
          const literal = LITERALS.find((word) => text.startsWith(word, i));
          if (literal) i += literal.length;
          else if (NUMBER.test(text)) i = NUMBER.lastIndex;
          else return i;
          expecting = "after-value";
        }
        break;
      }
      case "key":
      case "first-key": {
        if (expecting === "first-key" && ch === "}") {
          i++;
          open.pop();
          expecting = "after-value";
          break;
        }
        if (ch !== '"' || !scanString()) return i;
        skipWhitespace();
        if (text[i] !== ":") return i;
        i++;
        expecting = "value";
        break;
      }
      case "after-value": {
        const container = open.at(-1);
        if (container === undefined) return i < text.length ? i : undefined;
        if (ch === ",") {
          i++;
          expecting = container === "{" ? "key" : "value";
        } else if (ch === (container === "{" ? "}" : "]")) {
          i++;
          open.pop();
        } else return i;
        break;
      }
    }
  }
}

/** "line L, column C (offset N)" for an offset into `text`, lines and columns counted from 1. */
export function describeTextOffset(text: string, offset: number): string {
  const before = text.slice(0, offset);
  const line = before.split("\n").length;
  const column = offset - before.lastIndexOf("\n");
  return `line ${line}, column ${column} (offset ${offset})`;
}
