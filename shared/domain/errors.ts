/**
 * The domain's expected failures. Each maps to one HTTP status in the API's problem documents;
 * anything that is not one of these is a fault and becomes a 500 with no details.
 */

/** A field broke a rule: the problem document names both. */
export class ValidationError extends Error {
  readonly field: string;
  readonly rule: string;

  constructor(field: string, rule: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ValidationError';
    this.field = field;
    this.rule = rule;
  }
}

/** The thing does not exist in the caller's account (deliberately the same answer for another account's ids). */
export class NotFoundError extends Error {
  readonly resource: string;

  constructor(resource: string, options?: ErrorOptions) {
    super(`${resource} not found`, options);
    this.name = 'NotFoundError';
    this.resource = resource;
  }
}

/** The request conflicts with the current state: a duplicate, the last owner, a concurrent change. */
export class ConflictError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ConflictError';
  }
}

/** A documented limit (keys per user, rules per key) would be exceeded. */
export class LimitExceededError extends ConflictError {
  readonly limit: number;

  constructor(message: string, limit: number, options?: ErrorOptions) {
    super(message, options);
    this.name = 'LimitExceededError';
    this.limit = limit;
  }
}

/** The user's role may not hold API keys (only owner, viewer and logs-viewer may). */
export class RoleCannotHoldKeysError extends Error {
  readonly role: string;

  constructor(role: string, options?: ErrorOptions) {
    super(`a user with role '${role}' may not hold API keys; only owner, viewer and logs-viewer may`, options);
    this.name = 'RoleCannotHoldKeysError';
    this.role = role;
  }
}

/**
 * The caller's key no longer authorizes this write: it was deleted, its user is no longer an
 * owner, or the account's API was turned off since the authorizer's (cached) decision. The
 * write was refused inside its own transaction; nothing was written.
 */
export class StalePrincipalError extends Error {
  constructor(options?: ErrorOptions) {
    super('the key this request was made with no longer allows it', options);
    this.name = 'StalePrincipalError';
  }
}

/** A key's permissions name one its holder's role does not grant: a restriction can only narrow. */
export class PermissionNotGrantedError extends Error {
  readonly role: string;
  readonly permission: string;

  constructor(role: string, permission: string, options?: ErrorOptions) {
    super(`a user with role '${role}' is not granted '${permission}', so no key of theirs may be restricted to it`, options);
    this.name = 'PermissionNotGrantedError';
    this.role = role;
    this.permission = permission;
  }
}

/**
 * A restricted key asked to hand out more than it holds: a key (or list) with a permission it
 * lacks, an unrestricted one, or the secret of a key that may do more (a roll). Nothing written.
 */
export class PermissionEscalationError extends Error {
  constructor(beyond: string | null, options?: ErrorOptions) {
    super(
      beyond === null
        ? 'this key is restricted: the keys it creates, restricts or rolls must be restricted to permissions it holds itself'
        : `this key is restricted and does not hold '${beyond}', so it may not give it to a key`,
      options,
    );
    this.name = 'PermissionEscalationError';
  }
}
