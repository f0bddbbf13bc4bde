-- Argo CD health check for modelship.dev/InferenceService.
--   Serving with the Ready condition True                → Healthy
--   Initializing, Progressing (canary), Promoting          → Progressing
--   RolledBack while stable serves                         → Suspended: the rollout stopped and
--       waits for a new version or a manual promote (modelship.dev/promote), as Argo CD shows
--       a paused rollout
--   Degraded, Failed, RolledBack without a ready stable,
--   or the Degraded condition True                         → Degraded
local hs = {}
local function condition(ctype)
  if obj.status == nil or obj.status.conditions == nil then return nil end
  for _, c in ipairs(obj.status.conditions) do
    if c.type == ctype then return c end
  end
  return nil
end
local function say(status, message)
  hs.status = status
  hs.message = message
  return hs
end
local function msg(c, fallback)
  if c ~= nil and c.message ~= nil and c.message ~= "" then return c.message end
  return fallback
end

if obj.status == nil or obj.status.phase == nil then
  return say("Progressing", "Waiting for the operator to deploy the model")
end
local generation = obj.metadata.generation
local observed = obj.status.observedGeneration
if generation ~= nil and observed ~= nil and observed < generation then
  return say("Progressing", "Waiting for the operator to observe generation " .. generation)
end
local phase = obj.status.phase
local ready = condition("Ready")
local degraded = condition("Degraded")
local progressing = condition("Progressing")
local stableReady = ready ~= nil and ready.status == "True"

if phase == "Failed" or phase == "Degraded" then
  return say("Degraded", phase .. ": " .. msg(degraded, msg(ready, "no stable pod is ready")))
end
if phase == "RolledBack" then
  if not stableReady then
    return say("Degraded", "Rolled back and the stable version is not ready: " .. msg(degraded, msg(ready, "")))
  end
  return say("Suspended", "Canary rolled back; stable serves. " .. msg(degraded, "Waiting for a new version or a manual promote"))
end
if phase == "Initializing" or phase == "Progressing" or phase == "Promoting" then
  local weight = ""
  if obj.status.canary ~= nil and obj.status.canary.weight ~= nil then
    weight = " (canary v" .. tostring(obj.status.canary.version) .. " at " .. tostring(obj.status.canary.weight) .. "%)"
  end
  return say("Progressing", phase .. weight .. ": " .. msg(progressing, msg(ready, "rolling out")))
end
if phase == "Serving" then
  if degraded ~= nil and degraded.status == "True" then
    return say("Degraded", msg(degraded, "Serving with a problem"))
  end
  if not stableReady then
    return say("Progressing", "Waiting for the stable pods: " .. msg(ready, "not ready"))
  end
  local version = (obj.status.stable ~= nil and obj.status.stable.version ~= nil) and (" v" .. tostring(obj.status.stable.version)) or ""
  return say("Healthy", "Serving" .. version)
end
return say("Progressing", "Unknown phase " .. tostring(phase))
