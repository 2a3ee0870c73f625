/** ObjectKey names a namespaced object: the ApiKey queue's key, parsed once from the informer's object. */
export interface ObjectKey {
  namespace: string;
  name: string;
}
