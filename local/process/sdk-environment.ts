/**
 * Imported first by the local entry points, so it runs before any AWS SDK module loads: the
 * SDK warns at load time that its Node 20 support ends, which tells a local user nothing.
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
