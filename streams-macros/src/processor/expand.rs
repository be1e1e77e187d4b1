//! Generating the processor type for a parsed `#[processor]` function.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::parse::{ProcessorFn, Shape};
use crate::crate_path::private;

pub(super) fn expand(p: &ProcessorFn<'_>) -> TokenStream {
    let func = p.func;
    let fn_name = &func.sig.ident;
    let vis = &func.vis;
    let priv_ = private(p.args.krate.as_ref());
    let node_name = p
        .args
        .name
        .as_ref()
        .map_or_else(|| fn_name.to_string(), syn::LitStr::value);

    // Processors that never see the key are generic over it.
    let generic_key = p.key_in.is_none();
    let k = format_ident!("__K");
    let key_in = p.key_in.as_ref().map_or_else(|| quote!(#k), |t| quote!(#t));
    let key_out = p
        .key_out
        .as_ref()
        .map_or_else(|| quote!(#k), |t| quote!(#t));
    let value_in = &p.value_in;
    let value_out = &p.value_out;
    // Key-value maps and flat maps make new keys; a full processor's forwards are not visible.
    let changes_key = matches!(p.shape, Shape::Map | Shape::FlatMap) && p.key_out.is_some();
    let (impl_generics, ty_generics) = if generic_key {
        (quote!(<#k: ::core::clone::Clone + 'static>), quote!(<#k>))
    } else {
        (quote!(), quote!())
    };
    let lift = |call: TokenStream| {
        if p.fallible {
            quote!(#call.map_err(#priv_::ProcessorError::new)?)
        } else {
            call
        }
    };

    let (fields, field_init, init_body, process_body, punctuate_fn, store_names, store_handles) =
        match &p.shape {
            Shape::Map => {
                let body = if generic_key {
                    let out = lift(quote!(#fn_name(value)));
                    quote! {
                        let #priv_::Record { key, value, timestamp, headers } = record;
                        let value = #out;
                        ctx.forward(#priv_::Record { key, value, timestamp, headers })
                    }
                } else {
                    let out = lift(quote!(#fn_name(key, value)));
                    quote! {
                        let #priv_::Record { key, value, timestamp, headers } = record;
                        let (key, value) = #out;
                        ctx.forward(#priv_::Record { key, value, timestamp, headers })
                    }
                };
                (
                    quote!(),
                    quote!(),
                    quote!(),
                    body,
                    quote!(),
                    quote!(),
                    quote!(()),
                )
            }
            Shape::Filter => {
                let call = if generic_key {
                    lift(quote!(#fn_name(&record.value)))
                } else {
                    lift(quote!(#fn_name(&record.key, &record.value)))
                };
                let body = quote! {
                    if #call {
                        ctx.forward(record)
                    } else {
                        ::core::result::Result::Ok(())
                    }
                };
                (
                    quote!(),
                    quote!(),
                    quote!(),
                    body,
                    quote!(),
                    quote!(),
                    quote!(()),
                )
            }
            Shape::FlatMap => {
                let body = if generic_key {
                    let out = lift(quote!(#fn_name(value)));
                    quote! {
                        let #priv_::Record { key, value, timestamp, headers } = record;
                        for value in #out {
                            ctx.forward(#priv_::Record {
                                key: ::core::clone::Clone::clone(&key),
                                value,
                                timestamp,
                                headers: ::core::clone::Clone::clone(&headers),
                            })?;
                        }
                        ::core::result::Result::Ok(())
                    }
                } else {
                    let out = lift(quote!(#fn_name(key, value)));
                    quote! {
                        let #priv_::Record { key, value, timestamp, headers } = record;
                        for (key, value) in #out {
                            ctx.forward(#priv_::Record {
                                key,
                                value,
                                timestamp,
                                headers: ::core::clone::Clone::clone(&headers),
                            })?;
                        }
                        ::core::result::Result::Ok(())
                    }
                };
                (
                    quote!(),
                    quote!(),
                    quote!(),
                    body,
                    quote!(),
                    quote!(),
                    quote!(()),
                )
            }
            Shape::Full { stores } => {
                let names: Vec<String> = stores.iter().map(|(n, _)| n.to_string()).collect();
                let types: Vec<&syn::Type> = stores.iter().map(|(_, t)| t).collect();
                let idx: Vec<syn::Index> = (0..stores.len()).map(syn::Index::from).collect();
                let store_args = quote!(#(&__stores.#idx),*);
                let fetch = quote! {
                    self.stores = ::core::option::Option::Some((
                        #(<#types as #priv_::StoreHandle>::fetch(ctx, #names)?,)*
                    ));
                };
                let schedule = p.args.punctuate.as_ref().map(|pu| {
                    let every = &pu.every;
                    let clock = if pu.wall_clock {
                        quote!(#priv_::PunctuationType::WallClockTime)
                    } else {
                        quote!(#priv_::PunctuationType::StreamTime)
                    };
                    quote!(ctx.schedule(#every, #clock)?;)
                });
                let stores_ready = quote! {
                    let ::core::option::Option::Some(__stores) = &self.stores else {
                        return ::core::result::Result::Err(#priv_::ProcessorError::msg(
                            ::core::concat!("processor `", #node_name, "` ran before init"),
                        ));
                    };
                };
                let call = lift(quote!(#fn_name(record, ctx, #store_args)));
                let body = quote! {
                    #stores_ready
                    #call;
                    ::core::result::Result::Ok(())
                };
                let punctuate_fn = p.args.punctuate.as_ref().map(|pu| {
                    let target = &pu.call;
                    let call = lift(quote!(#target(punctuation, ctx, #store_args)));
                    quote! {
                        fn punctuate(
                            &mut self,
                            punctuation: #priv_::Punctuation,
                            ctx: &mut #priv_::ProcessorContext<'_, #key_out, #value_out>,
                        ) -> ::core::result::Result<(), #priv_::ProcessorError> {
                            #stores_ready
                            #call;
                            ::core::result::Result::Ok(())
                        }
                    }
                });
                (
                    quote!(stores: ::core::option::Option<(#(#types,)*)>,),
                    quote!(stores: ::core::option::Option::None,),
                    quote!(#fetch #schedule),
                    body,
                    quote!(#punctuate_fn),
                    quote!(#(#names),*),
                    quote!((#(#types,)*)),
                )
            }
        };

    let marker = if generic_key {
        quote!(__key: ::core::marker::PhantomData<fn() -> #k>,)
    } else {
        quote!()
    };
    let marker_init = if generic_key {
        quote!(__key: ::core::marker::PhantomData,)
    } else {
        quote!()
    };
    let struct_generics = if generic_key {
        quote!(<#k = ()>)
    } else {
        quote!()
    };
    let stage_processor = if generic_key {
        quote!(#fn_name<__StageK>)
    } else {
        quote!(#fn_name)
    };
    let stage_impl_generics = if generic_key { quote!(<#k>) } else { quote!() };
    let doc = format!(
        "The processor made from the function [`{fn_name}()`] by `#[processor]`: node name `{node_name}`."
    );
    let init_fn = if init_body.is_empty() {
        quote!()
    } else {
        quote! {
            fn init(
                &mut self,
                ctx: &mut #priv_::ProcessorContext<'_, #key_out, #value_out>,
            ) -> ::core::result::Result<(), #priv_::ProcessorError> {
                #init_body
                ::core::result::Result::Ok(())
            }
        }
    };

    quote! {
        #func

        #[doc = #doc]
        #[allow(non_camel_case_types)]
        #vis struct #fn_name #struct_generics {
            #marker
            #fields
        }

        const _: () = {
            impl #impl_generics ::core::default::Default for #fn_name #ty_generics {
                fn default() -> Self {
                    #fn_name { #marker_init #field_init }
                }
            }

            impl #impl_generics #priv_::Processor for #fn_name #ty_generics {
                type KIn = #key_in;
                type VIn = #value_in;
                type KOut = #key_out;
                type VOut = #value_out;

                #init_fn

                fn process(
                    &mut self,
                    record: #priv_::Record<#key_in, #value_in>,
                    ctx: &mut #priv_::ProcessorContext<'_, #key_out, #value_out>,
                ) -> ::core::result::Result<(), #priv_::ProcessorError> {
                    #process_body
                }

                #punctuate_fn
            }

            impl #stage_impl_generics #priv_::Named for #fn_name #ty_generics {
                const NAME: &'static str = #node_name;
            }

            impl #stage_impl_generics #priv_::ProcessorStores for #fn_name #ty_generics {
                const NAMES: &'static [&'static str] = &[#store_names];
                type Handles = #store_handles;
            }

            impl #stage_impl_generics #priv_::Stage for #fn_name #ty_generics {
                type Processor<__StageK: ::core::clone::Clone + 'static> = #stage_processor;
                const CHANGES_KEY: bool = #changes_key;
            }
        };
    }
}
