//! The FOCUS CostAndUsage columns, once, as data: name, type, requirement level, nullability,
//! allowed values and the version that introduced each. Order is the specification's (as in
//! validated 1.3 datasets); a version's columns are those introduced at or before it.

use super::Version;

/// The data type of a column, with the SQL type finops stores it in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DataType {
    /// Text.
    String,
    /// UTC date and time (`TIMESTAMP`, UTC by convention).
    DateTime,
    /// A JSON object serialised as text.
    Json,
    /// A cost: `DECIMAL(38,20)`, wide enough for a unit price × quantity product exactly.
    Cost,
    /// A unit price: `DECIMAL(38,10)`.
    UnitPrice,
    /// A quantity: `DECIMAL(38,10)`.
    Quantity,
}

impl DataType {
    /// The DuckDB type.
    pub fn sql(self) -> &'static str {
        match self {
            Self::String | Self::Json => "VARCHAR",
            Self::DateTime => "TIMESTAMP",
            Self::Cost => "DECIMAL(38, 20)",
            Self::UnitPrice | Self::Quantity => "DECIMAL(38, 10)",
        }
    }

    /// Whether FOCUS calls it Decimal.
    pub fn is_decimal(self) -> bool {
        matches!(self, Self::Cost | Self::UnitPrice | Self::Quantity)
    }
}

/// Requirement level.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    /// Always present.
    Mandatory,
    /// Present when the provider supports the feature.
    Conditional,
    /// Should be present.
    Recommended,
}

/// One FOCUS column.
#[derive(Debug)]
pub struct Column {
    /// Exact PascalCase name.
    pub name: &'static str,
    /// Type.
    pub data_type: DataType,
    /// Requirement level.
    pub level: Level,
    /// Whether nulls are allowed.
    pub nullable: bool,
    /// Allowed values, for enumerations.
    pub allowed: Option<&'static [&'static str]>,
    /// Version that introduced it.
    pub since: Version,
}

const CHARGE_CATEGORY: &[&str] = &["Usage", "Purchase", "Tax", "Credit", "Adjustment"];
const CHARGE_CLASS: &[&str] = &["Correction"];
const CHARGE_FREQUENCY: &[&str] = &["One-Time", "Recurring", "Usage-Based"];
const PRICING_CATEGORY: &[&str] = &["Standard", "Dynamic", "Committed", "Other"];
const COMMITMENT_CATEGORY: &[&str] = &["Spend", "Usage"];
const USED_UNUSED: &[&str] = &["Used", "Unused"];
/// FOCUS service categories.
pub const SERVICE_CATEGORY: &[&str] = &[
    "AI and Machine Learning",
    "Analytics",
    "Business Applications",
    "Compute",
    "Databases",
    "Developer Tools",
    "Multicloud",
    "Identity",
    "Integration",
    "Internet of Things",
    "Management and Governance",
    "Media",
    "Migration",
    "Mobile",
    "Networking",
    "Security",
    "Storage",
    "Web",
    "Other",
];

macro_rules! col {
    ($name:literal, $ty:ident, $level:ident, $null:literal, $since:ident) => {
        Column {
            name: $name,
            data_type: DataType::$ty,
            level: Level::$level,
            nullable: $null,
            allowed: None,
            since: Version::$since,
        }
    };
    ($name:literal, $ty:ident, $level:ident, $null:literal, $since:ident, $allowed:expr) => {
        Column {
            name: $name,
            data_type: DataType::$ty,
            level: Level::$level,
            nullable: $null,
            allowed: Some($allowed),
            since: Version::$since,
        }
    };
}

/// Every CostAndUsage column of FOCUS 1.3, in specification order.
pub static COLUMNS: &[Column] = &[
    col!("ProviderName", String, Mandatory, false, V1_0),
    col!("PublisherName", String, Mandatory, false, V1_0),
    col!("ServiceProviderName", String, Mandatory, false, V1_3),
    col!("HostProviderName", String, Mandatory, false, V1_3),
    col!("InvoiceIssuerName", String, Mandatory, false, V1_0),
    col!("InvoiceId", String, Recommended, true, V1_2),
    col!("BillingAccountId", String, Mandatory, false, V1_0),
    col!("BillingAccountName", String, Mandatory, true, V1_0),
    col!("BillingAccountType", String, Conditional, false, V1_2),
    col!("SubAccountId", String, Conditional, true, V1_0),
    col!("SubAccountName", String, Conditional, true, V1_0),
    col!("SubAccountType", String, Conditional, true, V1_2),
    col!("BillingPeriodStart", DateTime, Mandatory, false, V1_0),
    col!("BillingPeriodEnd", DateTime, Mandatory, false, V1_0),
    col!("ChargePeriodStart", DateTime, Mandatory, false, V1_0),
    col!("ChargePeriodEnd", DateTime, Mandatory, false, V1_0),
    col!(
        "ChargeCategory",
        String,
        Mandatory,
        false,
        V1_0,
        CHARGE_CATEGORY
    ),
    col!("ChargeClass", String, Mandatory, true, V1_0, CHARGE_CLASS),
    col!("ChargeDescription", String, Mandatory, true, V1_0),
    col!(
        "ChargeFrequency",
        String,
        Recommended,
        false,
        V1_0,
        CHARGE_FREQUENCY
    ),
    col!("BilledCost", Cost, Mandatory, false, V1_0),
    col!("EffectiveCost", Cost, Mandatory, false, V1_0),
    col!("ListCost", Cost, Mandatory, false, V1_0),
    col!("ContractedCost", Cost, Mandatory, false, V1_0),
    col!("ListUnitPrice", UnitPrice, Conditional, true, V1_0),
    col!("ContractedUnitPrice", UnitPrice, Conditional, true, V1_0),
    col!(
        "PricingCategory",
        String,
        Conditional,
        true,
        V1_0,
        PRICING_CATEGORY
    ),
    col!("PricingQuantity", Quantity, Mandatory, true, V1_0),
    col!("PricingUnit", String, Mandatory, true, V1_0),
    col!("PricingCurrency", String, Conditional, true, V1_2),
    col!(
        "PricingCurrencyContractedUnitPrice",
        UnitPrice,
        Conditional,
        true,
        V1_2
    ),
    col!(
        "PricingCurrencyEffectiveCost",
        Cost,
        Conditional,
        false,
        V1_2
    ),
    col!(
        "PricingCurrencyListUnitPrice",
        UnitPrice,
        Conditional,
        true,
        V1_2
    ),
    col!("BillingCurrency", String, Mandatory, false, V1_0),
    col!("ConsumedQuantity", Quantity, Conditional, true, V1_0),
    col!("ConsumedUnit", String, Conditional, true, V1_0),
    col!("ServiceName", String, Mandatory, false, V1_0),
    col!(
        "ServiceCategory",
        String,
        Mandatory,
        false,
        V1_0,
        SERVICE_CATEGORY
    ),
    col!("ServiceSubcategory", String, Recommended, false, V1_1),
    col!("SkuId", String, Conditional, true, V1_0),
    col!("SkuMeter", String, Conditional, true, V1_1),
    col!("SkuPriceId", String, Conditional, true, V1_0),
    col!("SkuPriceDetails", Json, Conditional, true, V1_1),
    col!("ResourceId", String, Conditional, true, V1_0),
    col!("ResourceName", String, Conditional, true, V1_0),
    col!("ResourceType", String, Conditional, true, V1_0),
    col!("RegionId", String, Conditional, true, V1_0),
    col!("RegionName", String, Conditional, true, V1_0),
    col!("AvailabilityZone", String, Recommended, true, V1_0),
    col!("CommitmentDiscountId", String, Conditional, true, V1_0),
    col!("CommitmentDiscountName", String, Conditional, true, V1_0),
    col!(
        "CommitmentDiscountCategory",
        String,
        Conditional,
        true,
        V1_0,
        COMMITMENT_CATEGORY
    ),
    col!("CommitmentDiscountType", String, Conditional, true, V1_0),
    col!(
        "CommitmentDiscountStatus",
        String,
        Conditional,
        true,
        V1_0,
        USED_UNUSED
    ),
    col!(
        "CommitmentDiscountQuantity",
        Quantity,
        Conditional,
        true,
        V1_1
    ),
    col!("CommitmentDiscountUnit", String, Conditional, true, V1_1),
    col!("ContractApplied", Json, Conditional, true, V1_3),
    col!("CapacityReservationId", String, Conditional, true, V1_1),
    col!(
        "CapacityReservationStatus",
        String,
        Conditional,
        true,
        V1_1,
        USED_UNUSED
    ),
    col!("AllocatedMethodId", String, Conditional, true, V1_3),
    col!("AllocatedMethodDetails", Json, Recommended, true, V1_3),
    col!("AllocatedResourceId", String, Conditional, true, V1_3),
    col!("AllocatedResourceName", String, Conditional, true, V1_3),
    col!("AllocatedTags", Json, Conditional, true, V1_3),
    col!("Tags", Json, Conditional, true, V1_0),
];

/// The columns of `version`, in order.
pub fn of(version: Version) -> impl Iterator<Item = &'static Column> {
    COLUMNS.iter().filter(move |c| c.since <= version)
}

/// The column called `name`.
pub fn get(name: &str) -> Option<&'static Column> {
    COLUMNS.iter().find(|c| c.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_per_version() {
        // FOCUS 1.2 has 57 CostAndUsage columns, 1.3 adds 8 (65); 1.0 had 43.
        assert_eq!(of(Version::V1_3).count(), 65);
        assert_eq!(of(Version::V1_2).count(), 57);
        assert_eq!(of(Version::V1_0).count(), 43);
        let mut names: Vec<_> = COLUMNS.iter().map(|c| c.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), COLUMNS.len(), "no duplicate names");
        assert_eq!(
            get("ChargeFrequency").unwrap().allowed.unwrap(),
            ["One-Time", "Recurring", "Usage-Based"]
        );
    }
}
