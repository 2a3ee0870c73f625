/** VERSION is the operator's release version, reported in logs and the user agent. */
export const VERSION = '0.1.0';

/** USER_AGENT identifies the operator to Rancher and to the apiserver. */
export const USER_AGENT = `rancher-apikey-operator/${VERSION}`;
