{{/*
The chart name, or nameOverride.
*/}}
{{- define "privatellm.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The prefix of every resource name: fullnameOverride, or <release>-<chart> (just <release> when it already
contains the chart name), cut to 63 characters.
*/}}
{{- define "privatellm.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Labels of every resource.
*/}}
{{- define "privatellm.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/name: {{ include "privatellm.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: privatellm
{{- end }}

{{/*
Labels that select the operator pods.
*/}}
{{- define "privatellm.selectorLabels" -}}
app.kubernetes.io/name: {{ include "privatellm.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: manager
{{- end }}

{{/*
The operator's ServiceAccount name.
*/}}
{{- define "privatellm.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "privatellm.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
An image reference from {repository, tag, digest}: repository:tag, repository:tag@digest or repository@digest.
The second argument is the default tag.
*/}}
{{- define "privatellm.imageRef" -}}
{{- $img := index . 0 }}
{{- $tag := default (index . 1) $img.tag | toString }}
{{- $ref := $img.repository }}
{{- if $tag }}{{ $ref = printf "%s:%s" $ref $tag }}{{ end }}
{{- if $img.digest }}{{ $ref = printf "%s@%s" $ref $img.digest }}{{ end }}
{{- if and (not $tag) (not $img.digest) }}
{{- fail (printf "image %s needs a tag or a digest" $img.repository) }}
{{- end }}
{{- $ref }}
{{- end }}

{{/*
Whether leader election is on: leaderElection.enabled, or (when null) replicaCount > 1. Renders "true" or "".
*/}}
{{- define "privatellm.leaderElection" -}}
{{- if kindIs "bool" .Values.leaderElection.enabled }}
{{- if .Values.leaderElection.enabled }}true{{ end }}
{{- else if gt (int .Values.replicaCount) 1 }}true
{{- end }}
{{- end }}

{{/*
The OperatorConfig file (internal/config) the operator reads with --config.
*/}}
{{- define "privatellm.operatorConfig" -}}
apiVersion: config.privatellm.dev/v1alpha1
kind: OperatorConfig
{{- with .Values.operatorConfig.engines }}
engines:
  {{- range $name, $engine := . }}
  {{ $name }}:
    {{- with $engine.image }}
    image: {{ include "privatellm.imageRef" (list . "") | quote }}
    {{- end }}
    {{- with $engine.cpuImage }}
    cpuImage: {{ include "privatellm.imageRef" (list . "") | quote }}
    {{- end }}
  {{- end }}
{{- end }}
stallGracePeriod: {{ .Values.operatorConfig.stallGracePeriod | quote }}
{{- with .Values.operatorConfig.admission }}
admission:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.operatorConfig.cost }}
cost:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.operatorConfig.modelCache }}
{{- $mc := deepCopy . }}
{{- if not $mc.loaderImage }}
{{- $_ := set $mc "loaderImage" (include "privatellm.imageRef" (list $.Values.image $.Chart.AppVersion)) }}
{{- end }}
modelCache:
  {{- toYaml $mc | nindent 2 }}
{{- end }}
{{- with .Values.operatorConfig.inferencePool }}
{{- if .enabled }}
inferencePool:
  {{- if .endpointPicker }}
  endpointPicker:
    {{- toYaml .endpointPicker | nindent 4 }}
  {{- else }} {}
  {{- end }}
{{- end }}
{{- end }}
{{- if .Values.gateway.enabled }}
gateway:
  url: {{ printf "http://%s.%s.svc:%v/v1" (include "privatellm.gatewayName" .) .Release.Namespace .Values.gateway.service.port | quote }}
  service: {{ printf "%s/%s" .Release.Namespace (include "privatellm.gatewayName" .) | quote }}
  {{- if .Values.gateway.networkPolicy.enabled }}
  networkPolicy:
    allowFrom:
    - namespace: {{ .Release.Namespace | quote }}
      labels:
        {{- include "privatellm.gatewaySelectorLabels" . | nindent 8 }}
    - namespace: {{ .Release.Namespace | quote }}
      labels:
        {{- include "privatellm.selectorLabels" . | nindent 8 }}
  {{- end }}
{{- end }}
{{- end }}

{{/*
The gateway's name (Deployment, Service, ServiceAccount, RBAC).
*/}}
{{- define "privatellm.gatewayName" -}}
{{- printf "%s-gateway" (include "privatellm.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Labels that select the gateway's pods.
*/}}
{{- define "privatellm.gatewaySelectorLabels" -}}
app.kubernetes.io/name: {{ include "privatellm.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: gateway
{{- end }}

{{/*
The name of the leader-election Lease (cmd/main.go: LeaderElectionID).
*/}}
{{- define "privatellm.leaseName" -}}
privatellm.serving.privatellm.dev
{{- end }}
