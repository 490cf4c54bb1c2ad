//! A section per bench group: what it measures, then a row per function and a column per
//! parameter, each cell linked to criterion's page.

use super::*;

/// The groups with results, in the order they were read.
pub(super) fn group_ids(data: &RunData) -> Vec<&str> {
    let mut groups: Vec<&str> = data.results.iter().map(|r| r.group.as_str()).collect();
    groups.dedup();
    groups
}

/// A column heading: the parameter is a worker count, or a number of concurrent requests.
pub(super) fn param_heading(axis: Axis, p: &Option<String>) -> String {
    match (p.as_deref(), axis) {
        (None, _) => "median".to_owned(),
        (Some(p), Axis::Concurrency) => format!("{p} concurrent"),
        (Some("1"), _) => "1 worker".to_owned(),
        (Some(p), _) => format!("{p} workers"),
    }
}

/// A group's section: what it measures, then a row per function and a column per parameter;
/// each cell is the median ± MAD, linked to criterion's page, and the ratio to the baseline.
pub(super) fn group_section(doc: &mut Document, data: &RunData, group: &str) {
    let members: Vec<&BenchResult> = data.members(group).collect();
    let mut params: Vec<Option<String>> = Vec::new();
    let mut functions: Vec<&str> = Vec::new();
    for r in &members {
        if !params.contains(&r.parameter) {
            params.push(r.parameter.clone());
        }
        if !functions.contains(&r.function.as_str()) {
            functions.push(&r.function);
        }
    }
    functions.sort_by_key(|f| (data.catalog.rank(group, f), f.to_string()));
    params.sort_by_key(|p| {
        let text = p.clone().unwrap_or_default();
        (text.parse::<u64>().unwrap_or(u64::MAX), text)
    });
    let entry = data.catalog.group(group);
    let axis = entry.map_or(Axis::Workers, |g| g.axis);
    let ratio_label = match data.compare(group) {
        Compare::SpeedupOver(b) => format!("speedup over `{b}`"),
        Compare::CostOf(b) => format!("cost relative to `{b}`"),
    };
    doc.section(Text::plain(group));
    if let Some(g) = entry.filter(|g| !g.about.is_empty()) {
        doc.paragraph(Text::with_code(&g.about));
    }
    doc.paragraph(
        Text::with_code(&format!(
            "Each cell: median ± MAD, then the {ratio_label}. "
        ))
        .and(Text::plain("Criterion's page for this group").link(data.group_link(group))),
    );
    let mut columns = vec![Column::text("model")];
    columns.extend(
        params
            .iter()
            .map(|p| Column::numeric(param_heading(axis, p))),
    );
    let rows = functions
        .iter()
        .map(|f| {
            let mut row = vec![Text::plain(*f)];
            row.extend(params.iter().map(|p| {
                match members
                    .iter()
                    .find(|r| r.function == *f && &r.parameter == p)
                {
                    Some(r) => {
                        let time =
                            format!("{} ± {}", human_time(r.median_ns), human_time(r.mad_ns));
                        let ratio = data.ratio(r).map(|x| x.to_string()).unwrap_or_default();
                        Text::plain(time)
                            .link(r.link())
                            .and(" · ")
                            .and(Text::plain(ratio).strong())
                    }
                    None => Text::plain("–"),
                }
            }));
            row
        })
        .collect();
    doc.blocks.push(Block::Table(Table { columns, rows }));
}
