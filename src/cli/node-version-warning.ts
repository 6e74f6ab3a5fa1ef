/**
 * Turns off the AWS SDK's Node-version warning for every command, as the image does
 * (`AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED` in the Dockerfile): on Node 20 the SDK
 * prints several lines at its first client announcing that later releases will require Node
 * 22, which a user of `pgbackup list` or `restore` cannot act on. A user who wants it sets the
 * variable to `false`.
 *
 * A module of its own, imported first by main.ts: ES modules evaluate their imports before
 * their own body, so the variable is set before any module that could load the SDK runs.
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
