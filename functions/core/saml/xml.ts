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

/** Any DTD, declared entity or external subset, in any case: refused before a parser sees it. */
const DTD = /<!\s*(DOCTYPE|ENTITY|ELEMENT|ATTLIST|NOTATION)/i;

/** Parses `xml`, failing on any parser warning, DTD or missing root. */
export function parseStrict(xml: string): Document {
  if (DTD.test(xml)) throw new SamlValidationError('xml');
  let failed = false;
  const fail = () => {
    failed = true;
  };
  let doc: Document;
  try {
    doc = new DOMParser({
      locator: {},
      errorHandler: { warning: fail, error: fail, fatalError: fail },
    }).parseFromString(xml, 'text/xml') as unknown as Document;
  } catch {
    throw new SamlValidationError('xml');
  }
  if (failed || !doc?.documentElement || doc.doctype) throw new SamlValidationError('xml');
  return doc;
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
    if (ns === null ? node.nodeType === ELEMENT_NODE && (node as Element).localName === localName : isElement(node, ns, localName))
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
