//! The run manifest Cost Management writes beside each export run's files (`manifest.json`).

use finops_core::Period;
use serde::Deserialize;

/// `manifest.json`, the fields finops uses.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    /// What was exported.
    pub export_config: ExportConfig,
    /// How it was written.
    #[serde(default)]
    pub delivery_config: DeliveryConfig,
    /// This run.
    pub run_info: RunInfo,
    /// The data files.
    #[serde(default)]
    pub blobs: Vec<Blob>,
    /// Rows in all files, when given.
    #[serde(default)]
    pub data_row_count: Option<u64>,
}

/// `exportConfig`.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExportConfig {
    /// Export name.
    pub export_name: String,
    /// `/subscriptions/…/providers/Microsoft.CostManagement/exports/<name>`: the scope.
    #[serde(default)]
    pub resource_id: Option<String>,
    /// Dataset version (`1.0`, `1.0r2`, `1.2-preview`, `2024-08-01`, `2023-12-01-preview`).
    #[serde(default)]
    pub data_version: Option<String>,
    /// `FocusCost`, `ActualCost`, `AmortizedCost`, …
    #[serde(rename = "type")]
    pub dataset: String,
}

/// `deliveryConfig`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryConfig {
    /// `Csv` or `Parquet`.
    #[serde(default)]
    pub file_format: Option<String>,
}

/// `runInfo`.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunInfo {
    /// The run's id: the version finops records.
    pub run_id: String,
    /// When it was submitted (ISO 8601): the newest run of a month wins.
    #[serde(default)]
    pub submitted_time: Option<String>,
    /// First day exported (ISO 8601): its month is the billing period.
    pub start_date: String,
    /// Last day exported (ISO 8601): in the same month, or the run is refused.
    #[serde(default)]
    pub end_date: Option<String>,
}

/// One entry of `blobs`.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Blob {
    /// Path from the container's root.
    pub blob_name: String,
    /// Size in bytes.
    #[serde(default)]
    pub byte_count: Option<u64>,
}

impl Manifest {
    /// Parses a manifest; `location` names it in errors.
    pub fn parse(bytes: &[u8], location: &str) -> Result<Self, crate::Error> {
        let mut m: Self =
            serde_json::from_slice(finops_core::vendor::strip_bom(bytes)).map_err(|e| {
                crate::error::manifest_invalid(
                    location.to_owned(),
                    format!("not an export run manifest: {e}"),
                )
            })?;
        let mut names: Vec<String> = m.blobs.iter().map(|b| b.blob_name.clone()).collect();
        finops_core::vendor::dedupe_files(&mut names, location);
        if names.len() < m.blobs.len() {
            let mut seen = std::collections::HashSet::new();
            m.blobs.retain(|b| seen.insert(b.blob_name.clone()));
        }
        if m.period().is_none() {
            return Err(crate::error::manifest_invalid(
                location.to_owned(),
                format!(
                    "runInfo.startDate `{}` is not a date",
                    m.run_info.start_date
                ),
            ));
        }
        if let Some(end) = m.run_info.end_date.as_deref().and_then(|e| e.get(..7))
            && m.run_info.start_date.get(..7) != Some(end)
        {
            return Err(crate::error::manifest_invalid(
                location.to_owned(),
                format!(
                    "the run covers {} to {}, more than one billing period; finops loads runs of one month (a MonthToDate or TheLastMonth export, or a custom range inside one month), so that no month is counted twice",
                    m.run_info.start_date,
                    m.run_info.end_date.as_deref().unwrap_or_default()
                ),
            ));
        }
        if finops_core::naming::validate_export_name(&m.export_config.export_name).is_err() {
            return Err(crate::error::manifest_invalid(
                location.to_owned(),
                format!(
                    "exportConfig.exportName `{}` is not a usable export name",
                    m.export_config.export_name
                ),
            ));
        }
        Ok(m)
    }

    /// The billing period: the month of `runInfo.startDate`.
    pub fn period(&self) -> Option<Period> {
        let d = self.run_info.start_date.get(..10)?;
        if d.as_bytes().get(4) != Some(&b'-') || d.as_bytes().get(7) != Some(&b'-') {
            return None;
        }
        Period::from_yyyymmdd(&format!("{}{}01", &d[..4], &d[5..7]))
    }

    /// The scope the export covers (its resource id up to `/providers/Microsoft.CostManagement`).
    pub fn scope(&self) -> Option<String> {
        let id = self
            .export_config
            .resource_id
            .as_deref()?
            .to_ascii_lowercase();
        Some(match id.find("/providers/microsoft.costmanagement") {
            Some(i) => id[..i].to_owned(),
            None => id,
        })
    }

    /// Whether the files are Parquet (by the delivery config, else by the first file's name).
    pub fn is_parquet(&self) -> bool {
        self.delivery_config.file_format.as_deref().map_or_else(
            || {
                self.blobs
                    .first()
                    .is_some_and(|b| b.blob_name.to_ascii_lowercase().ends_with(".parquet"))
            },
            |f| f.eq_ignore_ascii_case("parquet"),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const M: &str = r#"{
      "exportConfig": { "exportName": "daily-focus", "resourceId": "/subscriptions/0000/providers/Microsoft.CostManagement/exports/daily-focus",
                        "dataVersion": "1.0r2", "apiVersion": "2023-07-01-preview", "type": "FocusCost", "timeFrame": "MonthToDate", "granularity": "Daily" },
      "deliveryConfig": { "partitionData": true, "dataOverwriteBehavior": "CreateNewReport", "fileFormat": "Csv", "compressionMode": "gzip",
                          "containerUri": "/subscriptions/x", "rootFolderPath": "exports" },
      "runInfo": { "executionType": "Scheduled", "submittedTime": "2024-02-03T18:33:03.1032074Z", "runId": "af754a8e-0000",
                   "startDate": "2024-01-01T00:00:00", "endDate": "2024-01-31T00:00:00" },
      "blobs": [ { "blobName": "exports/daily-focus/20240101-20240131/202402031833/af754a8e-0000/part_0_0001.csv.gz", "byteCount": 123 } ],
      "blobCount": 1, "dataRowCount": 10 }"#;

    #[test]
    fn parses_the_documented_manifest() {
        let m = Manifest::parse(M.as_bytes(), "m").unwrap();
        assert_eq!(m.export_config.dataset, "FocusCost");
        assert_eq!(m.period(), Period::from_yyyymmdd("20240101"));
        assert_eq!(m.run_info.run_id, "af754a8e-0000");
        assert_eq!(m.scope().as_deref(), Some("/subscriptions/0000"));
        assert_eq!(m.blobs[0].byte_count, Some(123));
        assert!(!m.is_parquet());
        let bad = M.replace("2024-01-01T00:00:00", "soon");
        assert!(
            Manifest::parse(bad.as_bytes(), "m")
                .unwrap_err()
                .to_string()
                .contains("not a date")
        );
        let hostile = M.replace(
            "\"exportName\": \"daily-focus\"",
            "\"exportName\": \"../x\"",
        );
        assert!(Manifest::parse(hostile.as_bytes(), "m").is_err());
    }
}
