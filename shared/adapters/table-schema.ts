/**
 * The single table's key schema, shared by the CDK stack, the local runtime and the tests so
 * that all three create the same table.
 *
 * Items (every entity under its account's partition):
 *   pk=ACCOUNT#<accountId>  sk=META                 the account (apiEnabled, account key digest and ciphertext, ownerCount)
 *   pk=ACCOUNT#<accountId>  sk=USER#<userId>        a user (role, keyIds, rev)
 *   pk=ACCOUNT#<accountId>  sk=KEY#<keyId>          a user key (digest, pepper version, role copy, CIDR rules and
 *                                                   the set of their CIDRs, rev)
 *                           gsi1pk=ACCOUNT#<a>#USER#<u>  gsi1sk=KEY#<keyId>   (list one user's keys)
 *   pk=ACCOUNT#<accountId>  sk=KEYNAME#<name>       reserves a key name within the account
 *   pk=ACCOUNT#<accountId>  sk=EVENT#<time>#<id>    an audit event (expiresAt: TTL)
 *   pk=ACCOUNT#<accountId>  sk=LEAKED#<sha256 hex>  a value a leak report found to be a live key of the account, by its
 *                                                   SHA-256, never the value (expiresAt: TTL)
 *   pk=CONFIG               sk=PEPPER#<version>     a pepper's KMS ciphertext
 */
export const TABLE_KEYS = { partitionKey: 'pk', sortKey: 'sk' } as const;
export const BY_USER_INDEX = { name: 'byUser', partitionKey: 'gsi1pk', sortKey: 'gsi1sk' } as const;
export const TTL_ATTRIBUTE = 'expiresAt';
