-- Argo CD action "rotate": request an on-demand rotation of an ApiKey's Rancher key. The operator creates the new
-- key, writes both values in one Secret write, retires the old key after spec.rotation.overlap, and echoes the
-- token in status.rotation.lastHandledRotateAt.
local os = require("os")
if obj.metadata.annotations == nil then
  obj.metadata.annotations = {}
end
obj.metadata.annotations["rancher.keyops.dev/rotate-requested-at"] = os.date("!%Y-%m-%dT%H:%M:%SZ")
return obj
