-- Argo CD resource actions for rancher.keyops.dev: "reconcile" on every kind (a full check now), "rotate" on an
-- ApiKey (a new key, zero downtime). Each action only sets an annotation the operator acts on.
local actions = {}
actions["reconcile"] = {}
if obj.kind == "ApiKey" then
  actions["rotate"] = {}
end
return actions
