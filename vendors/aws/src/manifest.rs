//! Legacy CUR (v1) manifests: `<prefix>/<report>/<YYYYMMDD-YYYYMMDD>/<report>-Manifest.json`.

use finops_core::Period;
use serde::Deserialize;

use crate::error::{Error, Result};

/// A parsed CUR v1 manifest (the fields finops uses).
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    /// The version of this delivery; changes on every re-issue.
    pub assembly_id: String,
    /// Data files, as full object keys.
    pub report_keys: Vec<String>,
    /// Columns in file order.
    #[serde(default)]
    pub columns: Vec<Column>,
    /// `GZIP`, `ZIP` or `Parquet`.
    #[serde(default)]
    pub compression: Option<String>,
    /// `text/csv` or `Parquet`.
    #[serde(default)]
    pub content_type: Option<String>,
    /// The period covered.
    pub billing_period: BillingPeriod,
    /// Report name.
    #[serde(default)]
    pub report_name: Option<String>,
}

/// One column of a manifest.
#[derive(Clone, Debug, Deserialize)]
pub struct Column {
    /// `lineItem`, `product`…
    pub category: String,
    /// `UnblendedCost`…
    pub name: String,
    /// `String`, `OptionalBigDecimal`, `DateTime`, `Interval`… (absent in old manifests).
    #[serde(default, rename = "type")]
    pub ty: Option<String>,
}

impl Column {
    /// The CSV header: `category/name`.
    pub fn header(&self) -> String {
        format!("{}/{}", self.category, self.name)
    }
}

/// `{"start": "20231101T000000.000Z", "end": "20231201T000000.000Z"}`.
#[derive(Clone, Debug, Deserialize)]
pub struct BillingPeriod {
    /// Start, compact UTC form.
    pub start: String,
    /// End (exclusive).
    pub end: String,
}

/// The file format of a delivery.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileFormat {
    /// gzip-compressed CSV with `category/Name` headers.
    CsvGzip,
    /// Parquet with `snake_case` columns (Athena integration).
    Parquet,
}

impl Manifest {
    /// Parses and checks a manifest read from `location` (for messages).
    pub fn parse(bytes: &[u8], location: &str) -> Result<Self> {
        let mut m: Self = serde_json::from_slice(finops_core::vendor::strip_bom(bytes))
            .map_err(|e| crate::error::manifest_invalid(location.to_owned(), e.to_string()))?;
        finops_core::vendor::dedupe_files(&mut m.report_keys, location);
        let invalid = |reason: String| crate::error::manifest_invalid(location.to_owned(), reason);
        if m.assembly_id.trim().is_empty() {
            return Err(invalid("assemblyId is empty".into()));
        }
        if m.report_keys.is_empty() {
            return Err(invalid("reportKeys is empty".into()));
        }
        m.period().ok_or_else(|| {
            invalid(format!(
                "billingPeriod start `{}` is not the first of a month",
                m.billing_period.start
            ))
        })?;
        m.format(location)?;
        Ok(m)
    }

    /// The billing period, from `billingPeriod.start`.
    pub fn period(&self) -> Option<Period> {
        Period::from_yyyymmdd(self.billing_period.start.get(..8)?)
    }

    /// The data format, from `compression` / `contentType`.
    pub fn format(&self, location: &str) -> Result<FileFormat> {
        let compression = self.compression.as_deref().unwrap_or("GZIP");
        let content = self.content_type.as_deref().unwrap_or("text/csv");
        if compression.eq_ignore_ascii_case("parquet") || content.eq_ignore_ascii_case("parquet") {
            Ok(FileFormat::Parquet)
        } else if compression.eq_ignore_ascii_case("gzip") {
            Ok(FileFormat::CsvGzip)
        } else {
            Err(Error::UnsupportedCompression {
                location: location.to_owned(),
                compression: compression.to_owned(),
            })
        }
    }
}

/// Checks that `key` lies under `root` (`prefix/report/`) without `..`, `.` or empty
/// segments, and returns the part after `root`.
pub fn relative_key<'k>(key: &'k str, root: &str, location: &str) -> Result<&'k str> {
    let outside = || Error::KeyOutsidePrefix {
        location: location.to_owned(),
        key: key.to_owned(),
        root: root.to_owned(),
    };
    let rest = key.strip_prefix(root).ok_or_else(outside)?;
    if rest.is_empty()
        || rest.contains('\\')
        || rest
            .split('/')
            .any(|seg| seg.is_empty() || seg == "." || seg == "..")
    {
        return Err(outside());
    }
    Ok(rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"{
      "assemblyId": "aa1ddccb-abcd-1234-b849-57a32b6864a9",
      "account": "012345678910",
      "columns": [{"category": "identity", "name": "LineItemId", "type": "String"},
                  {"category": "lineItem", "name": "UnblendedCost", "type": "OptionalBigDecimal"}],
      "charset": "UTF-8", "compression": "GZIP", "contentType": "text/csv",
      "reportId": "a5e3", "reportName": "hourly2",
      "billingPeriod": {"start": "20161101T000000.000Z", "end": "20161201T000000.000Z"},
      "bucket": "billing-bucket",
      "reportKeys": ["cur/hourly2/20161101-20161201/aa1d/hourly2-1.csv.gz"],
      "additionalArtifactKeys": []
    }"#;

    #[test]
    fn parses_the_documented_manifest() {
        let m = Manifest::parse(SAMPLE.as_bytes(), "m.json").unwrap();
        assert_eq!(m.assembly_id, "aa1ddccb-abcd-1234-b849-57a32b6864a9");
        assert_eq!(m.period().unwrap().to_string(), "2016-11");
        assert_eq!(m.format("m").unwrap(), FileFormat::CsvGzip);
        assert_eq!(m.columns[1].header(), "lineItem/UnblendedCost");
        assert_eq!(m.columns[1].ty.as_deref(), Some("OptionalBigDecimal"));
    }

    #[test]
    fn rejects_bad_manifests() {
        assert!(matches!(
            Manifest::parse(b"not json", "m"),
            Err(Error::Core(finops_core::Error::ManifestInvalid { .. }))
        ));
        let zip = SAMPLE.replace("\"GZIP\"", "\"ZIP\"");
        assert!(matches!(
            Manifest::parse(zip.as_bytes(), "m"),
            Err(Error::UnsupportedCompression { .. })
        ));
        let empty = SAMPLE.replace(
            "\"cur/hourly2/20161101-20161201/aa1d/hourly2-1.csv.gz\"",
            "",
        );
        assert!(matches!(
            Manifest::parse(empty.as_bytes(), "m"),
            Err(Error::Core(finops_core::Error::ManifestInvalid { .. }))
        ));
        let parquet = SAMPLE.replace("\"GZIP\"", "\"Parquet\"");
        assert_eq!(
            Manifest::parse(parquet.as_bytes(), "m")
                .unwrap()
                .format("m")
                .unwrap(),
            FileFormat::Parquet
        );
    }

    #[test]
    fn keys_must_stay_under_the_root() {
        let root = "cur/hourly2/";
        assert_eq!(
            relative_key("cur/hourly2/20161101-20161201/a/f.csv.gz", root, "m").unwrap(),
            "20161101-20161201/a/f.csv.gz"
        );
        for bad in [
            "cur/hourly2/../other/f.csv.gz",
            "other/f.csv.gz",
            "cur/hourly2//f",
            "cur/hourly2/",
            "cur/hourly2/a\\..\\b",
            "cur/hourly2/./f",
        ] {
            assert!(
                matches!(
                    relative_key(bad, root, "m"),
                    Err(Error::KeyOutsidePrefix { .. })
                ),
                "{bad}"
            );
        }
    }
}
