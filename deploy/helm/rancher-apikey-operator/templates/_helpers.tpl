{{/* Object name: rancher-apikey-operator unless fullnameOverride says otherwise (deploy/ uses the same). */}}
{{- define "rao.fullname" -}}
{{- default "rancher-apikey-operator" .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* app.kubernetes.io/name, as in deploy/ (selectors use it, so it never changes with the release). */}}
{{- define "rao.name" -}}rancher-apikey-operator{{- end -}}

{{/* Labels of every object: deploy/'s label plus the ones Helm charts conventionally add. */}}
{{- define "rao.labels" -}}
app.kubernetes.io/name: {{ include "rao.name" . }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end -}}

{{/* The pod selector (identical to deploy/'s, so a kustomize install can be taken over). */}}
{{- define "rao.selectorLabels" -}}
app.kubernetes.io/name: {{ include "rao.name" . }}
app.kubernetes.io/component: controller
{{- end -}}

{{- define "rao.image" -}}
{{- if .Values.image.digest -}}
{{ .Values.image.repository }}@{{ .Values.image.digest }}
{{- else -}}
{{ .Values.image.repository }}:{{ default .Chart.AppVersion .Values.image.tag }}
{{- end -}}
{{- end -}}

{{/* The operator's ServiceAccount as an RBAC subject. */}}
{{- define "rao.subject" -}}
subjects:
  - kind: ServiceAccount
    name: {{ include "rao.fullname" . }}
    namespace: {{ .Release.Namespace }}
{{- end -}}


{{/* One NetworkPolicy egress rule: TCP ports, to the given CIDRs or (none given) to any address. */}}
{{- define "rao.egressRule" -}}
- ports:
    {{- range .ports }}
    - port: {{ . }}
      protocol: TCP
    {{- end }}
  {{- with .cidrs }}
  to:
    {{- range . }}
    - ipBlock:
        cidr: {{ . }}
    {{- end }}
  {{- end }}
{{- end -}}
