//! Campaign dashboard pages (filled in by the campaign-tracker work).

use crate::AppState;
use axum::Router;

pub fn routes() -> Router<AppState> {
    Router::new()
}
