-- Argo CD health check for every kind of rancher.keyops.dev: ApiKey, RancherConnection, ClusterRancherConnection.
-- The resources follow kstatus: status.observedGeneration plus Ready / Reconciling / Stalled conditions.
--   Healthy      Ready=True at the current generation (plan mode with nothing to change included)
--   Degraded     Stalled=True: a problem that needs a change (bad credentials, a refused adoption, a Secret conflict)
--   Suspended    an ApiKey annotated rancher.keyops.dev/paused: "true" (the operator leaves it alone), or in
--                spec.mode Plan with changes it did not apply (Ready=False, reason PlanNotApplied)
--   Progressing  anything else: not observed yet, an older generation, Reconciling, waiting on Rancher
-- The message is the deciding condition's "reason: message". Install: docs/install.md, "Argo CD".
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
  if c == nil then
    return fallback
  end
  local reason = c.reason or ""
  local message = c.message or ""
  if reason ~= "" and message ~= "" then
    return reason .. ": " .. message
  end
  if message ~= "" then
    return message
  end
  if reason ~= "" then
    return reason
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

if ready ~= nil and ready.reason == "PlanNotApplied" then
  hs.status = "Suspended"
  hs.message = describe(ready, "Plan mode: changes not applied")
  return hs
end

hs.status = "Progressing"
hs.message = describe(condition(status.conditions, "Reconciling") or ready, "Reconciling")
return hs
