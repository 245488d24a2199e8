import { BatchGetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AuthorizationRecords, CredentialStore } from '../../ports/credentials.ts';
import {
  ACCOUNT_KEY_TAGS,
  KEY_SECRET_TAGS,
  META_SK,
  accountPk,
  authorizationAccountFromItem,
  authorizationKeyFromItem,
  keySk,
} from './items.ts';
import { authorizationLimitsFromItem } from './plan-items.ts';
import { DynamoDbTable, type DynamoDbStoreOptions } from './table.ts';

/**
 * The authorizer's read: the account and the key in one BatchGetItem, projected to what the
 * decision needs (no ciphertext, no audit), strongly consistent.
 */
export class DynamoDbCredentialStore implements CredentialStore {
  readonly #table: DynamoDbTable;

  constructor(client: DynamoDBDocumentClient, tableName: string, options: DynamoDbStoreOptions = {}) {
    this.#table = new DynamoDbTable(client, tableName, options);
  }

  async loadForAuthorization(accountId: string, keyId: string): Promise<AuthorizationRecords> {
    const pk = accountPk(accountId);
    const metaKey = { pk, sk: META_SK };
    const keyKey = { pk, sk: keySk(keyId) };
    const output = await this.#table.client.send(
      new BatchGetCommand({
        RequestItems: {
          [this.#table.name]: {
            Keys: [metaKey, keyKey],
            // Strongly consistent: a deleted key, removed rule or disabled API must stop working at once.
            ConsistentRead: true,
            ProjectionExpression:
              '#sk, #apiEnabled, #accountKeyHash, #accountKeyPepperVersion, #plan, #usageKeyValue, #userId, #role, #secretHash, #pepperVersion, #rules, ' +
              // Key lifecycle: the key's expiry and the secrets a roll replaced, while their grace lasts.
              '#keyExpiresAt, #prevHash, #prevPepperVersion, #prevExpiresAt, #prevAccountKeyHash, #prevAccountKeyPepperVersion, #prevAccountKeyExpiresAt, ' +
              // Which secret matched: its tag travels with the Allow (domain/secret-tags.ts).
              '#secretTag, #prevSecretTag, #accountKeyTag, #prevAccountKeyTag, ' +
              // What a restricted key may use (DESIGN 14), from the same read.
              '#permissions',
            ExpressionAttributeNames: {
              '#sk': 'sk',
              '#apiEnabled': 'apiEnabled',
              '#accountKeyHash': 'accountKeyHash',
              '#accountKeyPepperVersion': 'accountKeyPepperVersion',
              '#plan': 'plan',
              '#usageKeyValue': 'usageKeyValue',
              '#userId': 'userId',
              '#role': 'role',
              '#secretHash': 'secretHash',
              '#pepperVersion': 'pepperVersion',
              '#rules': 'rules',
              '#keyExpiresAt': 'keyExpiresAt',
              '#prevHash': 'previousSecretHash',
              '#prevPepperVersion': 'previousPepperVersion',
              '#prevExpiresAt': 'previousSecretExpiresAt',
              '#prevAccountKeyHash': 'previousAccountKeyHash',
              '#prevAccountKeyPepperVersion': 'previousAccountKeyPepperVersion',
              '#prevAccountKeyExpiresAt': 'previousAccountKeyExpiresAt',
              '#secretTag': KEY_SECRET_TAGS.current,
              '#prevSecretTag': KEY_SECRET_TAGS.previous,
              '#accountKeyTag': ACCOUNT_KEY_TAGS.current,
              '#prevAccountKeyTag': ACCOUNT_KEY_TAGS.previous,
              '#permissions': KEY_PERMISSIONS_ATTRIBUTE,
            },
          },
        },
      }),
    );
    // A partial answer could read as "no such key" or miss an allow list: fail closed, and
    // leave retrying to the caller's next request rather than spend the authorizer's budget.
    const unprocessed = output.UnprocessedKeys ?? {};
    if (Object.values(unprocessed).some((entry) => (entry.Keys?.length ?? 0) > 0)) {
      throw new Error('the authorization read came back incomplete');
    }
    const items = output.Responses?.[this.#table.name] ?? [];
    const meta = items.find((item) => item.sk === metaKey.sk);
    const key = items.find((item) => item.sk === keyKey.sk);
    return {
      account: meta === undefined ? undefined : { ...authorizationAccountFromItem(meta), ...authorizationLimitsFromItem(meta) },
      key: key === undefined ? undefined : { ...authorizationKeyFromItem(key), ...authorizationKeyPermissions(key) },
    };
  }
}

/** The name of the key item's list of permissions (DESIGN 14); absent (or NULL) on an unrestricted key. */
export const KEY_PERMISSIONS_ATTRIBUTE = 'permissions';

/**
 * A restricted key's list. Anything but a list of strings is a fault (thrown, so the authorizer
 * fails closed): reading it as absent would lift the restriction.
 */
export function authorizationKeyPermissions(item: Record<string, unknown>): { permissions?: readonly string[] } {
  const value = item[KEY_PERMISSIONS_ATTRIBUTE];
  if (value === undefined || value === null) return {};
  if (!Array.isArray(value) || !value.every((entry): entry is string => typeof entry === 'string')) {
    throw new Error(`stored key has a malformed '${KEY_PERMISSIONS_ATTRIBUTE}'`);
  }
  return { permissions: value };
}
