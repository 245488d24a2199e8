import ipaddr from 'ipaddr.js';
import { ConflictError, LimitExceededError, NotFoundError, ValidationError } from './errors.ts';

type Address = ipaddr.IPv4 | ipaddr.IPv6;

export interface CidrRule {
  readonly id: string;
  /** Canonical network form: `10.0.0.0/8`, `2001:db8::/32`. */
  readonly cidr: string;
  readonly createdAt: string;
}

/** Longer than any valid CIDR; anything longer is refused before it is parsed. */
const MAX_CIDR_INPUT = 64;

function parseAddress(text: string): Address | undefined {
  // Only dotted-quad IPv4 and plain IPv6: ipaddr.js would also take '10', '0xa.1' and zone
  // ids, forms a person reading the allow list would not recognise.
  const normalised = text.includes(':') ? plainIPv6(text) : ipaddr.IPv4.isValidFourPartDecimal(text) ? text : undefined;
  if (normalised === undefined) return undefined;
  // process() turns an IPv4-mapped IPv6 address (::ffff:10.1.2.3) into the IPv4 address.
  return ipaddr.process(normalised);
}

/**
 * An IPv6 address with any dotted IPv4 tail rewritten as two hex groups, or undefined.
 * ipaddr.js reads the tail loosely ('::ffff:010.0.0.1' as 10.0.0.1, where other parsers read
 * octal 8.0.0.1) and takes the IPv4-compatible '::1.2.3.4' for the mapped '::ffff:1.2.3.4',
 * so that one address written as '::1.2.3.4' and '::102:304' would become two different rules.
 */
function plainIPv6(text: string): string | undefined {
  if (text.includes('%')) return undefined;
  const head = text.slice(0, text.lastIndexOf(':') + 1);
  const tail = text.slice(head.length);
  let hex = text;
  if (tail.includes('.')) {
    if (!ipaddr.IPv4.isValidFourPartDecimal(tail)) return undefined;
    const [a = 0, b = 0, c = 0, d = 0] = ipaddr.IPv4.parse(tail).octets;
    hex = `${head}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  return ipaddr.IPv6.isValid(hex) ? hex : undefined;
}

/**
 * Parses a CIDR rule into its canonical form. A bare address means /32 (IPv4) or /128 (IPv6).
 * A CIDR with host bits set is refused with the network form it probably meant, since
 * silently widening or narrowing an allow list is a security decision the caller must make.
 */
export function parseCidr(input: unknown, field = 'cidr'): string {
  if (typeof input !== 'string') throw new ValidationError(field, 'type', `${field} must be a string`);
  const text = input.trim();
  if (text.length === 0 || text.length > MAX_CIDR_INPUT) {
    throw new ValidationError(field, 'format', `${field} must be an IPv4 or IPv6 CIDR such as 127.1.0.0/24`);
  }
  const slash = text.indexOf('/');
  const addressText = slash === -1 ? text : text.slice(0, slash);
  const prefixText = slash === -1 ? undefined : text.slice(slash + 1);
  const address = parseAddress(addressText);
  if (address === undefined || (addressText.includes(':') && address.kind() === 'ipv4' && prefixText !== undefined)) {
    // A mapped address with an IPv6 prefix length (::ffff:1.2.3.4/120) is ambiguous: refuse it.
    throw new ValidationError(field, 'format', `${field} must be an IPv4 or IPv6 CIDR such as 127.1.0.0/24 (got '${text}')`);
  }
  const maxBits = address.kind() === 'ipv4' ? 32 : 128;
  let bits = maxBits;
  if (prefixText !== undefined) {
    if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > maxBits) {
      throw new ValidationError(field, 'prefix-length', `${field} prefix length must be a whole number from 0 to ${maxBits} (got '${prefixText}')`);
    }
    bits = Number(prefixText);
  }
  const network = networkAddress(address, bits);
  const canonical = `${network.toString()}/${bits}`;
  if (network.toString() !== address.toString()) {
    throw new ValidationError(
      field,
      'host-bits',
      `${field} '${text}' has host bits set; the network is ${canonical}`,
    );
  }
  return canonical;
}

function networkAddress(address: Address, bits: number): Address {
  const bytes = address.toByteArray();
  for (let i = 0; i < bytes.length; i += 1) {
    const keep = Math.max(0, Math.min(8, bits - i * 8));
    bytes[i] = (bytes[i] ?? 0) & ((0xff << (8 - keep)) & 0xff);
  }
  return ipaddr.fromByteArray(bytes);
}

/** Parses a canonical CIDR (as stored) for matching. */
function parseStored(cidr: string): [Address, number] | undefined {
  try {
    return ipaddr.parseCIDR(cidr);
  } catch {
    return undefined;
  }
}

/**
 * Whether `sourceIp` may use a key with these rules. An empty list allows every address;
 * an unparsable source address is never allowed by a non-empty list.
 */
export function isSourceAllowed(rules: readonly string[], sourceIp: string): boolean {
  if (rules.length === 0) return true;
  const address = parseAddress(sourceIp);
  if (address === undefined) return false;
  return rules.some((cidr) => {
    const range = parseStored(cidr);
    return range !== undefined && range[0].kind() === address.kind() && address.match(range);
  });
}

/**
 * A key's allow list as a value: every edit returns a new list or throws the domain error
 * that explains why not (duplicate, limit, unknown rule).
 */
export class CidrAllowList {
  readonly rules: readonly CidrRule[];
  readonly limit: number;

  constructor(rules: readonly CidrRule[], limit: number) {
    this.rules = rules;
    this.limit = limit;
  }

  add(rule: CidrRule): CidrAllowList {
    if (this.rules.length >= this.limit) {
      throw new LimitExceededError(`a key may have at most ${this.limit} CIDR rules`, this.limit);
    }
    this.#refuseDuplicate(rule.cidr, undefined);
    return new CidrAllowList([...this.rules, rule], this.limit);
  }

  replace(ruleId: string, cidr: string): { list: CidrAllowList; rule: CidrRule } {
    const existing = this.find(ruleId);
    this.#refuseDuplicate(cidr, ruleId);
    const rule: CidrRule = { ...existing, cidr };
    return { list: new CidrAllowList(this.rules.map((r) => (r.id === ruleId ? rule : r)), this.limit), rule };
  }

  remove(ruleId: string): CidrAllowList {
    this.find(ruleId);
    return new CidrAllowList(this.rules.filter((r) => r.id !== ruleId), this.limit);
  }

  find(ruleId: string): CidrRule {
    const rule = this.rules.find((r) => r.id === ruleId);
    if (rule === undefined) throw new NotFoundError('CIDR rule');
    return rule;
  }

  #refuseDuplicate(cidr: string, exceptRuleId: string | undefined): void {
    if (this.rules.some((r) => r.cidr === cidr && r.id !== exceptRuleId)) {
      throw new ConflictError(`the allow list already has the rule ${cidr}`);
    }
  }
}
