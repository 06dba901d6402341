/**
 * Strict, namespace-aware reading of SAML XML with @xmldom/xmldom (the parser node-saml and xml-crypto use,
 * so every layer sees the same tree). No DTD is ever accepted: SAML forbids it (saml-core 1.3.3 / bindings
 * 3.5.5.2 say a DTD MUST NOT be used) and it is the door to entity expansion. Traversals are iterative so a
 * deeply nested document cannot overflow the stack.
 */
import { DOMParser } from '@xmldom/xmldom';
import { SamlValidationError } from './errors.js';

export const NS = {
  protocol: 'urn:oasis:names:tc:SAML:2.0:protocol',
  assertion: 'urn:oasis:names:tc:SAML:2.0:assertion',
  dsig: 'http://www.w3.org/2000/09/xmldsig#',
} as const;

const ELEMENT_NODE = 1;
const TEXT_NODE = 3;
const CDATA_SECTION_NODE = 4;
const PROCESSING_INSTRUCTION_NODE = 7;
const COMMENT_NODE = 8;

/** Any DTD, declared entity or external subset, in any case: refused before a parser sees it. */
const DTD = /<!\s*(DOCTYPE|ENTITY|ELEMENT|ATTLIST|NOTATION)/i;

/**
 * Markup accepted before any parser runs. A SAML Response nests about 8 deep (Response, Assertion,
 * Signature, SignedInfo, Reference, Transforms, Transform, InclusiveNamespaces) and carries tens to a few
 * hundred elements. The limits exist because the libraries are superlinear on hostile shapes that fit in
 * 256 KB: xmldom's namespace lookups and node-saml's XPath get quadratic with depth (20,000 levels: seconds)
 * and with element count (40,000 empty elements: a minute).
 */
const XML_LIMITS = { depth: 64, elements: 1_000, attributes: 4_000 } as const;

/**
 * Whether `xml` exceeds {@link XML_LIMITS}, by a linear scan that follows the markup the parser will see: in
 * XML without DTD a `<` only ever opens markup (it is escaped in text and attribute values); comments, CDATA
 * and processing instructions are skipped whole; a start tag ends at the first `>` outside a quoted attribute
 * value (`>` and `/>` may appear literally in text and values); each `=` outside quotes in it is an attribute.
 */
function exceedsLimits(
  xml: string,
  limits: { depth: number; elements: number; attributes: number } = XML_LIMITS,
): boolean {
  let depth = 0;
  let elements = 0;
  let attributes = 0;
  let i = xml.indexOf('<');
  while (i !== -1) {
    if (xml.startsWith('<!--', i)) i = skipPast(xml, i, '-->');
    else if (xml.startsWith('<![CDATA[', i)) i = skipPast(xml, i, ']]>');
    else if (xml.startsWith('<?', i) || xml.startsWith('<!', i)) i = skipPast(xml, i, '>');
    else if (xml.startsWith('</', i)) {
      depth--;
      i = skipPast(xml, i, '>');
    } else {
      let quote = '';
      let j = i + 1;
      for (; j < xml.length; j++) {
        const c = xml[j];
        if (quote) {
          if (c === quote) quote = '';
        } else if (c === '"' || c === "'") quote = c;
        else if (c === '=') attributes++;
        else if (c === '>') break;
      }
      if (++elements > limits.elements || attributes > limits.attributes) return true;
      if (xml[j - 1] !== '/' && ++depth > limits.depth) return true;
      i = j + 1;
    }
    if (i < 0 || i >= xml.length) break;
    i = xml.indexOf('<', i);
  }
  return false;
}

function skipPast(xml: string, from: number, end: string): number {
  const at = xml.indexOf(end, from);
  return at === -1 ? -1 : at + end.length;
}

class ParseFailed extends Error {}

/**
 * The one hardened XML parse (SAML messages and IdP metadata): refuses any DTD and markup beyond `limits` before
 * parsing (`'dtd-or-limits'`), and any parser warning or a missing root (`'malformed'`).
 */
export function parseHardened(
  xml: string,
  limits: { depth: number; elements: number; attributes: number } = XML_LIMITS,
): Document | 'dtd-or-limits' | 'malformed' {
  if (DTD.test(xml) || exceedsLimits(xml, limits)) return 'dtd-or-limits';
  // Throwing from the handler stops the parser at the first problem instead of reading on.
  const fail = () => {
    throw new ParseFailed();
  };
  let doc: Document;
  try {
    doc = new DOMParser({
      locator: {},
      errorHandler: { warning: fail, error: fail, fatalError: fail },
    }).parseFromString(xml, 'text/xml') as unknown as Document;
  } catch {
    return 'malformed';
  }
  if (!doc?.documentElement || doc.doctype) return 'malformed';
  return doc;
}

/** Parses a SAML message with {@link parseHardened} within {@link XML_LIMITS}; any refusal is `xml`. */
export function parseStrict(xml: string): Document {
  const doc = parseHardened(xml);
  if (typeof doc === 'string') throw new SamlValidationError('xml');
  return doc;
}

/** Whether `root`'s subtree holds a comment or processing instruction (iterative). */
export function containsCommentOrPi(root: Node): boolean {
  const stack: Node[] = [root];
  while (stack.length > 0) {
    const node = stack.pop()!;
    if (node.nodeType === COMMENT_NODE || node.nodeType === PROCESSING_INSTRUCTION_NODE) return true;
    for (let n = node.firstChild; n; n = n.nextSibling) stack.push(n);
  }
  return false;
}

export function isElement(node: Node | null | undefined, ns: string, localName: string): node is Element {
  return (
    node?.nodeType === ELEMENT_NODE &&
    (node as Element).namespaceURI === ns &&
    (node as Element).localName === localName
  );
}

/** Direct element children named `{ns}localName`. */
export function children(parent: Node, ns: string, localName: string): Element[] {
  const found: Element[] = [];
  for (let n = parent.firstChild; n; n = n.nextSibling) if (isElement(n, ns, localName)) found.push(n);
  return found;
}

/** The single direct child `{ns}localName`; undefined when absent, a `check` error when repeated. */
export function optionalChild(
  parent: Node,
  ns: string,
  localName: string,
  check: ConstructorParameters<typeof SamlValidationError>[0],
): Element | undefined {
  const found = children(parent, ns, localName);
  if (found.length > 1) throw new SamlValidationError(check);
  return found[0];
}

/**
 * Every element below `root` (itself included) named `localName`, in document order, iteratively. With
 * `ns: null` the namespace is ignored, as node-saml's `local-name()` XPath queries ignore it.
 */
export function descendants(root: Node, ns: string | null, localName: string): Element[] {
  const found: Element[] = [];
  const stack: Node[] = [root];
  while (stack.length > 0) {
    const node = stack.pop()!;
    if (
      ns === null
        ? node.nodeType === ELEMENT_NODE && (node as Element).localName === localName
        : isElement(node, ns, localName)
    )
      found.push(node as Element);
    const kids: Node[] = [];
    for (let n = node.firstChild; n; n = n.nextSibling) if (n.nodeType === ELEMENT_NODE) kids.push(n);
    for (let i = kids.length - 1; i >= 0; i--) stack.push(kids[i]!);
  }
  return found;
}

/**
 * The text of an element that must hold only text. Undefined when it holds anything else (an element, a
 * comment, a processing instruction): the comment-truncation attack (`alice@corp.com<!---->.evil.com`)
 * relies on readers that stop at the first text node, so we never pick one text node out of several kinds.
 */
export function pureText(element: Element): string | undefined {
  let text = '';
  for (let n = element.firstChild; n; n = n.nextSibling) {
    if (n.nodeType !== TEXT_NODE && n.nodeType !== CDATA_SECTION_NODE) return undefined;
    text += (n as CharacterData).data;
  }
  return text;
}

/** An attribute's value, undefined when absent (xmldom returns '' for absent attributes). */
export function attr(element: Element, name: string): string | undefined {
  return element.hasAttribute(name) ? element.getAttribute(name)! : undefined;
}
