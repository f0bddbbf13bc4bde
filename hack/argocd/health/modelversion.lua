-- Argo CD health check for modelship.dev/ModelVersion.
-- Pending/Validating → Progressing; Ready → Healthy; Rejected → Degraded (with the reason).
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

if obj.status == nil or obj.status.phase == nil then
  return say("Progressing", "Waiting for the operator to validate the version")
end
local generation = obj.metadata.generation
local observed = obj.status.observedGeneration
if generation ~= nil and observed ~= nil and observed < generation then
  return say("Progressing", "Waiting for the operator to observe generation " .. generation)
end
local phase = obj.status.phase
local validated = condition("Validated")
local detail = (validated ~= nil and validated.message ~= nil) and (": " .. validated.message) or ""
if phase == "Ready" then
  return say("Healthy", "Validated" .. detail)
end
if phase == "Rejected" then
  return say("Degraded", "Rejected" .. detail)
end
if phase == "Pending" or phase == "Validating" then
  return say("Progressing", phase .. detail)
end
return say("Progressing", "Unknown phase " .. tostring(phase))
