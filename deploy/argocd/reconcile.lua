-- Argo CD action "reconcile": request a full check now. An ApiKey is checked against Rancher (its key read by id,
-- its pair verified) and echoes the token in status.lastHandledReconcileAt; a connection is enqueued by the change.
local os = require("os")
if obj.metadata.annotations == nil then
  obj.metadata.annotations = {}
end
obj.metadata.annotations["rancher.keyops.dev/reconcile-requested-at"] = os.date("!%Y-%m-%dT%H:%M:%SZ")
return obj
