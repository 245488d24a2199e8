import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CidrAllowList, type CidrRule, isSourceAllowed, parseCidr } from '#shared/domain/cidr.ts';
import { ConflictError, LimitExceededError, NotFoundError, ValidationError } from '#shared/domain/errors.ts';

function refusal(action: () => unknown): ValidationError {
  try {
    action();
  } catch (error) {
    if (error instanceof ValidationError) return error;
    throw error;
  }
  throw new Error('expected a ValidationError, but the value was accepted');
}

// An independent model of addresses as integers, so the properties below do not take the
// library's word for what an address, a network or the canonical text is.
function ipv4ToBigInt(text: string): bigint {
  return text.split('.').reduce((acc, octet) => (acc << 8n) | BigInt(Number(octet)), 0n);
}

function bigIntToIPv4(value: bigint): string {
  return [24n, 16n, 8n, 0n].map((shift) => String((value >> shift) & 0xffn)).join('.');
}

function ipv6ToBigInt(text: string): bigint {
  let hexText = text;
  const tail = text.slice(text.lastIndexOf(':') + 1);
  if (tail.includes('.')) {
    const v4 = ipv4ToBigInt(tail);
    hexText = `${text.slice(0, text.length - tail.length)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const [left = '', right] = hexText.split('::');
  const leftGroups = left === '' ? [] : left.split(':');
  const rightGroups = right === undefined || right === '' ? [] : right.split(':');
  const zeros = Array.from({ length: 8 - leftGroups.length - rightGroups.length }, () => '0');
  return [...leftGroups, ...zeros, ...rightGroups].reduce((acc, group) => (acc << 16n) | BigInt(parseInt(group, 16)), 0n);
}

/** RFC 5952: lower case, no leading zeros, the longest run (first on a tie) of two or more zero groups as '::'. */
function bigIntToIPv6(value: bigint): string {
  const groups = Array.from({ length: 8 }, (_, i) => Number((value >> BigInt(16 * (7 - i))) & 0xffffn));
  let bestStart = -1;
  let bestLength = 1;
  for (let start = 0; start < 8; start += 1) {
    let length = 0;
    while (start + length < 8 && groups[start + length] === 0) length += 1;
    if (length > bestLength) {
      bestStart = start;
      bestLength = length;
    }
  }
  const hex = groups.map((group) => group.toString(16));
  if (bestStart === -1) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

function networkOf(value: bigint, prefix: number, width: number): bigint {
  const hostBits = BigInt(width - prefix);
  return (value >> hostBits) << hostBits;
}

describe('parseCidr', () => {
  it.each([
    ['10.0.0.0/8', '10.0.0.0/8'],
    ['127.1.0.0/24', '127.1.0.0/24'],
    ['10.1.2.3', '10.1.2.3/32'],
    ['0.0.0.0/0', '0.0.0.0/0'],
    ['255.255.255.255/32', '255.255.255.255/32'],
    ['  10.0.0.0/8\n', '10.0.0.0/8'],
    ['10.0.0.0/08', '10.0.0.0/8'],
    ['2001:DB8::/32', '2001:db8::/32'],
    ['2001:0db8:0000:0000:0000:0000:0000:0000/32', '2001:db8::/32'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1/128'],
    ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1/128'],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1/128'],
    ['2001:db8::', '2001:db8::/128'],
    ['::/0', '::/0'],
    ['::1', '::1/128'],
    ['fe80::/10', 'fe80::/10'],
    ['64:ff9b::192.0.2.33', '64:ff9b::c000:221/128'],
    ['ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128'],
    // An IPv4-mapped address is the IPv4 address it carries.
    ['::ffff:10.1.2.3', '10.1.2.3/32'],
    ['::ffff:a01:203', '10.1.2.3/32'],
    // The deprecated IPv4-compatible form is an IPv6 address, the same rule however it is written.
    ['::1.2.3.4', '::102:304/128'],
    ['::102:304', '::102:304/128'],
  ])('reads %j as %s', (input, canonical) => {
    expect(parseCidr(input)).toBe(canonical);
  });

  it.each([
    ['127.1.0.1/24', '127.1.0.0/24'],
    ['10.0.0.1/8', '10.0.0.0/8'],
    ['1.0.0.0/0', '0.0.0.0/0'],
    ['2001:db8::1/32', '2001:db8::/32'],
    ['2001:DB8:0:0:8000::/32', '2001:db8::/32'],
    ['1::/0', '::/0'],
  ])('refuses %j with the host-bits rule and names the network %s', (input, network) => {
    // Act
    const error = refusal(() => parseCidr(input));

    // Assess
    expect(error.rule).toBe('host-bits');
    expect(error.field).toBe('cidr');
    expect(error.message).toContain(network);
  });

  it.each(['10.0.0.0/33', '::/129', '10.0.0.0/-1', '10.0.0.0/', '10.0.0.0/8.0', '10.0.0.0/ 8', '10.0.0.0/+8', '10.0.0.0/1e1', '10.0.0.0/0x8', '1.2.3.4/32/1', '::/1000'])(
    'refuses the prefix length of %j',
    (input) => {
      expect(refusal(() => parseCidr(input)).rule).toBe('prefix-length');
    },
  );

  it.each([
    '',
    '   ',
    'junk',
    '10',
    '10.0.0',
    '10.0.0.0.0',
    '0xa.0.0.1',
    '010.0.0.1',
    '10.0.0.256',
    '1.2.3.-4',
    '+10.0.0.0/8',
    '１.2.3.4',
    '10.0.0.0\u0000/8',
    'fe80::1%eth0',
    'fe80::%1/64',
    '::1.2.3.4%eth0',
    '::ffff:0xa.0.0.1',
    '::ffff:010.0.0.1',
    '::ffff:10.0.0',
    '::ffff:10.0.0.0/104',
    '::ffff:a00:0/104',
    '1::2::3',
    ':::',
    '12345::',
    '1:2:3:4:5:6:7:8:9',
    '1.2.3.4:',
    ':1.2.3.4',
    'g::1',
    '1'.repeat(70),
    `10.0.0.0/8${' '.repeat(100)}x`,
  ])('refuses %j with the format rule', (input) => {
    expect(refusal(() => parseCidr(input)).rule).toBe('format');
  });

  it.each([undefined, null, 167772160, ['10.0.0.0/8'], { cidr: '10.0.0.0/8' }])('refuses the non-string %o with the type rule', (input) => {
    expect(refusal(() => parseCidr(input)).rule).toBe('type');
  });

  it('names the field it was given', () => {
    const error = refusal(() => parseCidr('127.1.0.1/24', 'rules[2]'));
    expect(error.field).toBe('rules[2]');
    expect(error.message).toContain('rules[2]');
  });

  it('throws nothing but ValidationError for input of any type (property)', () => {
    const addressish = fc.string({ unit: fc.constantFrom(...Array.from('0123456789abcdefABCDEFx:./% ')), maxLength: 50 });
    fc.assert(
      fc.property(fc.oneof(fc.anything(), fc.string(), fc.string({ unit: 'binary' }), addressish), (input) => {
        try {
          const canonical = parseCidr(input);
          expect(parseCidr(canonical)).toBe(canonical);
        } catch (error) {
          expect(error).toBeInstanceOf(ValidationError);
        }
      }),
      { numRuns: 3000 },
    );
  });
});

describe('parseCidr and isSourceAllowed agree with an integer model (property)', () => {
  it('IPv4: the network is canonical, contains its address, and excludes addresses outside it', () => {
    fc.assert(
      fc.property(fc.ipV4(), fc.integer({ min: 0, max: 32 }), fc.nat(), (address, prefix, flipSeed) => {
        // Prepare
        const value = ipv4ToBigInt(address);
        const network = `${bigIntToIPv4(networkOf(value, prefix, 32))}/${prefix}`;

        // Act / Assess: canonical form is a fixed point
        expect(parseCidr(network)).toBe(network);
        expect(parseCidr(address)).toBe(`${address}/32`);
        if (network === `${address}/${prefix}`) expect(parseCidr(`${address}/${prefix}`)).toBe(network);
        else expect(refusal(() => parseCidr(`${address}/${prefix}`)).message).toContain(network);

        // the address is inside its network, also when it arrives IPv4-mapped
        expect(isSourceAllowed([network], address)).toBe(true);
        expect(isSourceAllowed([network], `::ffff:${address}`)).toBe(true);
        expect(isSourceAllowed([network], `::${address}`)).toBe(false);

        // flipping any bit inside the prefix leaves the network
        if (prefix > 0) {
          const outside = bigIntToIPv4(value ^ (1n << BigInt(31 - (flipSeed % prefix))));
          expect(isSourceAllowed([network], outside)).toBe(false);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('IPv6: the network is canonical, contains its address, and excludes addresses outside it', () => {
    fc.assert(
      fc.property(fc.ipV6(), fc.integer({ min: 0, max: 128 }), fc.nat(), (address, prefix, flipSeed) => {
        // Prepare
        const value = ipv6ToBigInt(address);
        const isMapped = value >> 32n === 0xffffn;
        if (isMapped) {
          // An IPv4-mapped address is its IPv4 address, and takes no IPv6 prefix length.
          expect(parseCidr(address)).toBe(`${bigIntToIPv4(value & 0xffffffffn)}/32`);
          expect(refusal(() => parseCidr(`${address}/${prefix}`)).rule).toBe('format');
          return;
        }
        const network = `${bigIntToIPv6(networkOf(value, prefix, 128))}/${prefix}`;

        // Act / Assess
        expect(parseCidr(network)).toBe(network);
        expect(parseCidr(address)).toBe(`${bigIntToIPv6(value)}/128`);
        if (networkOf(value, prefix, 128) === value) expect(parseCidr(`${address}/${prefix}`)).toBe(network);
        else expect(refusal(() => parseCidr(`${address}/${prefix}`)).message).toContain(network);

        expect(isSourceAllowed([network], address)).toBe(true);
        expect(isSourceAllowed([network], address.toUpperCase())).toBe(true);

        if (prefix > 0) {
          const outside = value ^ (1n << BigInt(127 - (flipSeed % prefix)));
          // An outside address that happens to be IPv4-mapped is an IPv4 source: still not allowed.
          expect(isSourceAllowed([network], bigIntToIPv6(outside))).toBe(false);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('the model formats the RFC 5952 examples', () => {
    expect(bigIntToIPv6(ipv6ToBigInt('2001:db8:0:0:1:0:0:1'))).toBe('2001:db8::1:0:0:1');
    expect(bigIntToIPv6(ipv6ToBigInt('2001:0db8:0:0:0:0:0:1'))).toBe('2001:db8::1');
    expect(bigIntToIPv6(ipv6ToBigInt('2001:db8:0:1:1:1:1:1'))).toBe('2001:db8:0:1:1:1:1:1');
    expect(bigIntToIPv6(ipv6ToBigInt('::ffff:10.1.2.3'))).toBe('::ffff:a01:203');
    expect(bigIntToIPv6(0n)).toBe('::');
  });
});

describe('isSourceAllowed', () => {
  it('allows every address when the list is empty', () => {
    for (const source of ['127.0.0.1', '203.0.113.9', '::1', '2001:db8::42']) expect(isSourceAllowed([], source)).toBe(true);
  });

  it('allows exactly the addresses inside a rule', () => {
    const rules = ['127.1.0.0/24'];
    expect(isSourceAllowed(rules, '127.1.0.0')).toBe(true);
    expect(isSourceAllowed(rules, '127.1.0.255')).toBe(true);
    expect(isSourceAllowed(rules, '127.1.1.0')).toBe(false);
    expect(isSourceAllowed(rules, '127.0.255.255')).toBe(false);
    expect(isSourceAllowed(rules, '10.0.0.1')).toBe(false);
  });

  it('allows an address inside any one of several rules', () => {
    const rules = ['10.0.0.0/8', '192.168.1.7/32', '2001:db8::/32'];
    expect(isSourceAllowed(rules, '10.200.1.1')).toBe(true);
    expect(isSourceAllowed(rules, '192.168.1.7')).toBe(true);
    expect(isSourceAllowed(rules, '192.168.1.8')).toBe(false);
    expect(isSourceAllowed(rules, '2001:db8:ffff::1')).toBe(true);
    expect(isSourceAllowed(rules, '2001:db9::1')).toBe(false);
  });

  it('matches an IPv4-mapped IPv6 source against IPv4 rules', () => {
    expect(isSourceAllowed(['127.1.0.0/24'], '::ffff:127.1.0.5')).toBe(true);
    expect(isSourceAllowed(['127.1.0.0/24'], '::FFFF:7f01:5')).toBe(true);
    expect(isSourceAllowed(['127.1.0.0/24'], '::ffff:127.1.1.5')).toBe(false);
  });

  it('never matches an IPv4 source with an IPv6 rule, nor the reverse', () => {
    expect(isSourceAllowed(['::/0'], '127.1.0.5')).toBe(false);
    expect(isSourceAllowed(['::/0'], '::ffff:127.1.0.5')).toBe(false);
    expect(isSourceAllowed(['::/96'], '1.2.3.4')).toBe(false);
    expect(isSourceAllowed(['0.0.0.0/0'], '::1')).toBe(false);
    expect(isSourceAllowed(['0.0.0.0/0'], '2001:db8::1')).toBe(false);
    expect(isSourceAllowed(['1.2.3.4/32'], '::1.2.3.4')).toBe(false);
  });

  it('allows a whole family with a /0 rule', () => {
    expect(isSourceAllowed(['0.0.0.0/0'], '0.0.0.0')).toBe(true);
    expect(isSourceAllowed(['0.0.0.0/0'], '255.255.255.255')).toBe(true);
    expect(isSourceAllowed(['::/0'], '::')).toBe(true);
    expect(isSourceAllowed(['::/0'], 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff')).toBe(true);
  });

  it.each(['', 'unknown', '127.1.0', '127.001.0.5', '0x7f.1.0.5', '2130771973', ' 127.1.0.5', '127.1.0.5 ', '127.1.0.5/32', 'fe80::1%eth0', '::ffff:0x7f.1.0.5', '127.1.0.5, 10.0.0.1'])(
    'never allows the unparsable source %j when the list is not empty',
    (source) => {
      expect(isSourceAllowed(['0.0.0.0/0', '::/0', '127.1.0.0/24'], source)).toBe(false);
    },
  );

  it('ignores a stored rule it cannot read instead of allowing through it', () => {
    expect(isSourceAllowed(['garbage'], '10.1.1.1')).toBe(false);
    expect(isSourceAllowed(['garbage', '10.0.0.0/8'], '10.1.1.1')).toBe(true);
  });

  it('never throws and allows no unparsable source (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 60 }), (source) => {
        const allowed = isSourceAllowed(['0.0.0.0/0', '::/0'], source);
        if (!/^[0-9A-Fa-f:.]+$/.test(source)) expect(allowed).toBe(false);
      }),
      { numRuns: 2000 },
    );
  });
});

function rule(id: string, cidr: string): CidrRule {
  return { id, cidr, createdAt: '2026-01-01T00:00:00.000Z' };
}

describe('CidrAllowList', () => {
  const first = rule('rule000000000001', '10.0.0.0/8');
  const second = rule('rule000000000002', '2001:db8::/32');

  it('adds a rule to a new list and leaves the original unchanged', () => {
    // Prepare
    const original = new CidrAllowList([first], 3);

    // Act
    const updated = original.add(second);

    // Assess
    expect(updated.rules).toEqual([first, second]);
    expect(updated.limit).toBe(3);
    expect(original.rules).toEqual([first]);
  });

  it('refuses a duplicate rule with a ConflictError that is not a limit', () => {
    // Prepare
    const list = new CidrAllowList([first], 3);

    // Act
    const action = () => list.add(rule('rule000000000003', first.cidr));

    // Assess
    expect(action).toThrow(ConflictError);
    expect(action).not.toThrow(LimitExceededError);
    expect(list.rules).toEqual([first]);
  });

  it('refuses a rule beyond the limit and says what the limit is', () => {
    // Prepare
    const list = new CidrAllowList([first, second], 2);

    // Act
    let caught: unknown;
    try {
      list.add(rule('rule000000000003', '192.168.0.0/16'));
    } catch (error) {
      caught = error;
    }

    // Assess
    expect(caught).toBeInstanceOf(LimitExceededError);
    expect((caught as LimitExceededError).limit).toBe(2);
    expect((caught as LimitExceededError).message).toContain('2');
    expect(list.rules).toHaveLength(2);
  });

  it('accepts the rule that reaches the limit exactly', () => {
    expect(new CidrAllowList([first], 2).add(second).rules).toHaveLength(2);
  });

  it('replaces a rule keeping its id, creation time and position', () => {
    // Prepare
    const original = new CidrAllowList([first, second], 2);

    // Act
    const { list, rule: replaced } = original.replace(first.id, '172.16.0.0/12');

    // Assess
    expect(replaced).toEqual({ id: first.id, cidr: '172.16.0.0/12', createdAt: first.createdAt });
    expect(list.rules).toEqual([replaced, second]);
    expect(original.rules).toEqual([first, second]);
  });

  it('allows replacing a rule with its own value, but not with another rule’s', () => {
    const list = new CidrAllowList([first, second], 2);
    expect(list.replace(first.id, first.cidr).list.rules).toEqual([first, second]);
    expect(() => list.replace(first.id, second.cidr)).toThrow(ConflictError);
  });

  it('refuses to replace or remove an unknown rule', () => {
    const list = new CidrAllowList([first], 2);
    expect(() => list.replace('rule00000000000X', '172.16.0.0/12')).toThrow(NotFoundError);
    expect(() => list.remove('rule00000000000X')).toThrow(NotFoundError);
    expect(() => list.find('rule00000000000X')).toThrow(NotFoundError);
    expect(list.rules).toEqual([first]);
  });

  it('removes a rule into a new list and leaves the original unchanged', () => {
    // Prepare
    const original = new CidrAllowList([first, second], 2);

    // Act
    const updated = original.remove(first.id);

    // Assess
    expect(updated.rules).toEqual([second]);
    expect(original.rules).toEqual([first, second]);
    expect(updated.remove(second.id).rules).toEqual([]);
  });

  it('finds a rule by id', () => {
    expect(new CidrAllowList([first, second], 2).find(second.id)).toEqual(second);
  });
});
