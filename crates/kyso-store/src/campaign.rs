//! Campaign-tracker storage: administrative units, register, plans, adoption counters, visits,
//! reports. (Filled in by the campaign-tracker work.)
