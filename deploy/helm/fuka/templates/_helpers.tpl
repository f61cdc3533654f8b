{{/*
Names. The full name is cut to 52 characters so that "<fullname>-controller"
(a Job name, and so the value of its pods' job-name label) stays within 63.
*/}}
{{- define "fuka.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 52 | trimSuffix "-" -}}
{{- end -}}

{{- define "fuka.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 52 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 52 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 52 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "fuka.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "fuka.controllerName" -}}
{{- printf "%s-controller" (include "fuka.fullname" .) -}}
{{- end -}}

{{- define "fuka.workersName" -}}
{{- printf "%s-workers" (include "fuka.fullname" .) -}}
{{- end -}}

{{- define "fuka.planConfigMap" -}}
{{- printf "%s-plan" (include "fuka.fullname" .) -}}
{{- end -}}

{{/* The address workers dial (fuka's TLS checks CA and role, not host names). */}}
{{- define "fuka.controllerAddress" -}}
{{- printf "%s.%s.svc:%d" (include "fuka.controllerName" .) .Release.Namespace (int .Values.controller.listenPort) -}}
{{- end -}}

{{- define "fuka.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion | toString) -}}
{{- end -}}

{{- define "fuka.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "fuka.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* Labels. */}}
{{- define "fuka.selectorLabels" -}}
app.kubernetes.io/name: {{ include "fuka.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "fuka.labels" -}}
helm.sh/chart: {{ include "fuka.chart" . }}
{{ include "fuka.selectorLabels" . }}
{{- with .Chart.AppVersion }}
app.kubernetes.io/version: {{ . | quote }}
{{- end }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: fuka
{{- end -}}

{{/* Usage: include "fuka.componentLabels" (list . "worker") */}}
{{- define "fuka.componentLabels" -}}
{{ include "fuka.labels" (index . 0) }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end -}}

{{- define "fuka.componentSelectorLabels" -}}
{{ include "fuka.selectorLabels" (index . 0) }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end -}}

{{/*
Plan and data. A data file's name may hold folders; a ConfigMap key may not,
so "data/users.csv" is stored under "data_users.csv" and mounted back at its
path.
*/}}
{{- define "fuka.dataKey" -}}
{{- . | replace "/" "_" -}}
{{- end -}}

{{/* Fails on a plan or data configuration that cannot work; renders nothing. */}}
{{- define "fuka.validate" -}}
{{- if and .Values.plan.text .Values.plan.existingConfigMap -}}
{{- fail "plan: set plan.text or plan.existingConfigMap, not both" -}}
{{- end -}}
{{- if not (or .Values.plan.text .Values.plan.existingConfigMap) -}}
{{- fail "plan: no plan to run: set plan.text (--set-file plan.text=plan.yaml) or plan.existingConfigMap" -}}
{{- end -}}
{{- if not .Values.certs.existingSecret -}}
{{- fail "certs.existingSecret: name the Secret with ca.pem, controller.pem, controller-key.pem, worker.pem, worker-key.pem (docs/kubernetes.md)" -}}
{{- end -}}
{{- if not (regexMatch "^[-._a-zA-Z0-9]+$" .Values.plan.file) -}}
{{- fail (printf "plan.file %q: want a file name (letters, digits, '-', '_', '.')" .Values.plan.file) -}}
{{- end -}}
{{- $keys := dict -}}
{{- range $name, $_ := .Values.data -}}
{{- $key := include "fuka.dataKey" $name -}}
{{- if or (hasPrefix "/" $name) (regexMatch "(^|/)\\.\\.?(/|$)" $name) (hasSuffix "/" $name) (not (regexMatch "^[-._a-zA-Z0-9/]+$" $name)) -}}
{{- fail (printf "data %q: want a relative file path of letters, digits, '-', '_', '.' and '/', without . or .. parts" $name) -}}
{{- end -}}
{{- if and $.Values.plan.text (eq $key $.Values.plan.file) -}}
{{- fail (printf "data %q: the plan itself is stored as %q" $name $.Values.plan.file) -}}
{{- end -}}
{{- if hasKey $keys $key -}}
{{- fail (printf "data %q and %q: both would be stored as %q" (get $keys $key) $name $key) -}}
{{- end -}}
{{- $_ := set $keys $key $name -}}
{{- end -}}
{{- end -}}

{{/* Whether the chart makes a ConfigMap of its own (inline plan or data). */}}
{{- define "fuka.hasPlanConfigMap" -}}
{{- if or .Values.plan.text .Values.data }}true{{ end -}}
{{- end -}}

{{/* Volumes and mounts. Secrets are mounted per role: CA plus own pair. */}}
{{- define "fuka.certsVolume" -}}
{{- $ctx := index . 0 -}}
{{- $role := index . 1 -}}
- name: certs
  secret:
    secretName: {{ $ctx.Values.certs.existingSecret }}
    defaultMode: 288 # 0440: readable by the pod's group (fsGroup), no one else
    items:
      - key: ca.pem
        path: ca.pem
      - key: {{ $role }}.pem
        path: {{ $role }}.pem
      - key: {{ $role }}-key.pem
        path: {{ $role }}-key.pem
{{- end -}}

{{- define "fuka.planVolume" -}}
- name: plan
  projected:
    defaultMode: 292 # 0444
    sources:
      {{- if .Values.plan.existingConfigMap }}
      - configMap:
          name: {{ .Values.plan.existingConfigMap }}
      {{- end }}
      {{- if include "fuka.hasPlanConfigMap" . }}
      - configMap:
          name: {{ include "fuka.planConfigMap" . }}
          items:
            {{- if .Values.plan.text }}
            - key: {{ .Values.plan.file }}
              path: {{ .Values.plan.file }}
            {{- end }}
            {{- range $name, $_ := .Values.data }}
            - key: {{ include "fuka.dataKey" $name }}
              path: {{ $name }}
            {{- end }}
      {{- end }}
      {{- range .Values.plan.extraConfigMaps }}
      - configMap:
          name: {{ . }}
      {{- end }}
{{- end -}}

{{/* The pod-level settings both roles share. Usage: include "fuka.podCommon" (list . "worker") */}}
{{- define "fuka.podCommon" -}}
{{- $ctx := index . 0 -}}
{{- $role := index . 1 -}}
restartPolicy: Never
{{- with include "fuka.serviceAccountName" $ctx }}
serviceAccountName: {{ . }}
{{- end }}
automountServiceAccountToken: {{ $ctx.Values.serviceAccount.automountToken }}
enableServiceLinks: false
{{- with $ctx.Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $ctx.Values.podSecurityContext }}
securityContext:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/*
The workers' affinity: the user's, plus the anti-affinity preset that spreads
workers of this release over topologyKey (nodes by default).
*/}}
{{- define "fuka.workerAffinity" -}}
{{- $aff := deepCopy (.Values.workers.affinity | default dict) -}}
{{- $preset := .Values.workers.podAntiAffinity -}}
{{- if $preset -}}
{{- if hasKey $aff "podAntiAffinity" -}}
{{- fail "workers: set workers.podAntiAffinity or workers.affinity.podAntiAffinity, not both" -}}
{{- end -}}
{{- $term := dict "topologyKey" .Values.workers.antiAffinityTopologyKey "labelSelector" (dict "matchLabels" (include "fuka.componentSelectorLabels" (list . "worker") | fromYaml)) -}}
{{- if eq $preset "hard" -}}
{{- $_ := set $aff "podAntiAffinity" (dict "requiredDuringSchedulingIgnoredDuringExecution" (list $term)) -}}
{{- else if eq $preset "soft" -}}
{{- $_ := set $aff "podAntiAffinity" (dict "preferredDuringSchedulingIgnoredDuringExecution" (list (dict "weight" 100 "podAffinityTerm" $term))) -}}
{{- else -}}
{{- fail (printf "workers.podAntiAffinity %q: want \"\", soft or hard" $preset) -}}
{{- end -}}
{{- end -}}
{{- if $aff -}}
{{- toYaml $aff -}}
{{- end -}}
{{- end -}}

{{/* The time limits both Jobs share; null (which deletes the key) leaves a limit out. */}}
{{- define "fuka.jobLimits" -}}
{{- with index .Values "activeDeadlineSeconds" }}
activeDeadlineSeconds: {{ . | int }}
{{- end }}
{{- if not (kindIs "invalid" (index .Values "ttlSecondsAfterFinished")) }}
ttlSecondsAfterFinished: {{ .Values.ttlSecondsAfterFinished | int }}
{{- end }}
{{- end -}}
