{{/*
The prefix of every object's name: the release name (or fullnameOverride), short enough
for "-controller" and a Pod's generated suffix to fit in 63 characters.
*/}}
{{- define "pgbackup.fullname" -}}
{{- default .Release.Name .Values.fullnameOverride | trunc 40 | trimSuffix "-" -}}
{{- end -}}

{{/* Name of the controller's Deployment, ServiceAccount, ClusterRole and Lease. */}}
{{- define "pgbackup.controllerName" -}}
{{- printf "%s-controller" (include "pgbackup.fullname" .) -}}
{{- end -}}

{{/* Labels that select the controller's pods (never change: a Deployment's selector is immutable). */}}
{{- define "pgbackup.selectorLabels" -}}
app.kubernetes.io/name: pgbackup-operator
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: controller
{{- end -}}

{{/* Labels of every object. */}}
{{- define "pgbackup.labels" -}}
{{ include "pgbackup.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{/* The operator's image. */}}
{{- define "pgbackup.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{/* The image of backup runs: runnerImage, else the controller's. */}}
{{- define "pgbackup.runnerImage" -}}
{{- default (include "pgbackup.image" .) .Values.runnerImage -}}
{{- end -}}
