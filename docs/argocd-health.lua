-- Argo CD health check for rancher.keyops.dev ApiKey, RancherConnection and ClusterRancherConnection.
-- The resources follow kstatus: status.observedGeneration plus Ready / Reconciling / Stalled conditions.
--   Healthy      Ready=True and status.observedGeneration == metadata.generation
--   Degraded     Stalled=True (a terminal problem that needs a change: bad credentials, forbidden namespace)
--   Suspended    an ApiKey with annotation rancher.keyops.dev/paused: "true" (the operator leaves it alone)
--   Progressing  anything else (not yet observed, Reconciling, waiting on Rancher, transient errors)
-- Install: docs/install.md, "Argo CD".
local hs = {}

local function condition(conditions, type)
  if conditions == nil then
    return nil
  end
  for _, c in ipairs(conditions) do
    if c.type == type then
      return c
    end
  end
  return nil
end

local function describe(c, fallback)
  if c ~= nil and c.message ~= nil and c.message ~= "" then
    return c.message
  end
  if c ~= nil and c.reason ~= nil and c.reason ~= "" then
    return c.reason
  end
  return fallback
end

local annotations = obj.metadata and obj.metadata.annotations or nil
if obj.kind == "ApiKey" and annotations ~= nil and annotations["rancher.keyops.dev/paused"] == "true" then
  hs.status = "Suspended"
  hs.message = "Paused with the rancher.keyops.dev/paused annotation"
  return hs
end

local status = obj.status
if status == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to observe this resource"
  return hs
end

local stalled = condition(status.conditions, "Stalled")
if stalled ~= nil and stalled.status == "True" then
  hs.status = "Degraded"
  hs.message = describe(stalled, "Stalled")
  return hs
end

local generation = obj.metadata and obj.metadata.generation or nil
if generation ~= nil and status.observedGeneration ~= generation then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to observe generation " .. tostring(generation)
  return hs
end

local ready = condition(status.conditions, "Ready")
if ready ~= nil and ready.status == "True" then
  hs.status = "Healthy"
  hs.message = describe(ready, "Ready")
  return hs
end

hs.status = "Progressing"
hs.message = describe(condition(status.conditions, "Reconciling") or ready, "Reconciling")
return hs
