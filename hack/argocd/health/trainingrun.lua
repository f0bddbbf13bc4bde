-- Argo CD health check for modelship.dev/TrainingRun.
-- Pending/Running → Progressing; Succeeded and registered (or registration disabled) → Healthy;
-- Succeeded while registering → Progressing; Succeeded but gates failed, or Failed → Degraded.
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
  return say("Progressing", "Waiting for the operator to create the training Job")
end
local generation = obj.metadata.generation
local observed = obj.status.observedGeneration
if generation ~= nil and observed ~= nil and observed < generation then
  return say("Progressing", "Waiting for the operator to observe generation " .. generation)
end
local phase = obj.status.phase
local done = condition("Succeeded")
if phase == "Pending" or phase == "Running" then
  return say("Progressing", phase .. ((done ~= nil and done.message ~= nil) and (": " .. done.message) or ""))
end
if phase == "Failed" then
  return say("Degraded", "Training failed" .. ((done ~= nil and done.message ~= nil) and (": " .. done.message) or ""))
end
if phase == "Succeeded" then
  local reg = condition("Registered")
  if reg == nil or reg.status == "Unknown" then
    return say("Progressing", (reg ~= nil and reg.message) or "Trained; registering the ModelVersion")
  end
  if reg.status == "True" or reg.reason == "RegistrationDisabled" then
    return say("Healthy", reg.message or "Trained")
  end
  return say("Degraded", reg.message or "Trained, but no ModelVersion was registered")
end
return say("Progressing", "Unknown phase " .. tostring(phase))
