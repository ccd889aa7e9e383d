/* placeholder: implemented by its owner */
typedef int med_placeholder_auth_t;
