-- Argo CD health check for serving.privatellm.dev/LLMDeployment (docs/gitops.md shows the argocd-cm entry).
--
-- It reads the same status contract as kstatus (Flux, kpt), so both tools agree:
--   observedGeneration != generation (-1: never seen)  -> Progressing  (kstatus InProgress)
--   Stalled=True                                       -> Degraded     (kstatus Failed)
--   Ready=True                                         -> Healthy      (kstatus Current)
--   anything else (Reconciling=True, Ready=False)      -> Progressing  (kstatus InProgress)
-- test/gitops/argocd_test.go runs this file on the fixtures in test/gitops/testdata.
local hs = {status = "Progressing", message = "Waiting for the privatellm operator to observe the LLMDeployment"}
if obj.status == nil then
  return hs
end

local generation = obj.metadata.generation or 0
local observed = obj.status.observedGeneration
if observed == nil or observed ~= generation then
  if observed ~= nil and observed >= 0 then
    hs.message = "Waiting for the privatellm operator to observe generation " .. string.format("%d", generation) ..
      " (it last observed " .. string.format("%d", observed) .. ")"
  end
  return hs
end

local byType = {}
if obj.status.conditions ~= nil then
  for _, c in ipairs(obj.status.conditions) do
    byType[c.type] = c
  end
end

local function describe(c)
  if c.message ~= nil and c.message ~= "" then
    return (c.reason or c.type) .. ": " .. c.message
  end
  return c.reason or c.type
end

local stalled = byType["Stalled"]
if stalled ~= nil and stalled.status == "True" then
  hs.status = "Degraded"
  hs.message = describe(stalled)
  return hs
end

local ready = byType["Ready"]
if ready ~= nil and ready.status == "True" then
  hs.status = "Healthy"
  hs.message = describe(ready)
  return hs
end

local reconciling = byType["Reconciling"]
if reconciling ~= nil and reconciling.status == "True" then
  hs.message = describe(reconciling)
elseif ready ~= nil then
  hs.message = describe(ready)
else
  hs.message = "Waiting for the privatellm operator to report the Ready condition"
end
return hs
