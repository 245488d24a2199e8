/**
 * Imported first by main.ts, before any module that builds an SDK client at module scope
 * (functions/commons/clients/ does): region and SDK settings must be in place by then.
 */
process.env.AWS_REGION ??= 'us-east-1';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

// The local secrets stand-in warns that it is no KMS; here that is known, so keep it quiet.
process.removeAllListeners('warning');
process.on('warning', (warning: Error & { code?: string }) => {
  if (warning.code !== 'LATCHKEY_LOCAL_SECRETS') console.error(warning);
});
